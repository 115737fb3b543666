package commands

import (
	"errors"
	"time"

	"github.com/ipcctl/ipcctl/format"
	"github.com/urfave/cli/v2"
)

func timerCommand() *cli.Command {
	return &cli.Command{
		Name:      "timer",
		Usage:     "print a timer event every DUR",
		ArgsUsage: "DUR",
		Description: "Print a timer event every DUR (a Go duration: 500ms, 2s, 1m30s), a clock " +
			"for pipelines. The first event comes one DUR after the start. Ticks keep to the " +
			"clock: a slow reader makes ticks be skipped, never later ones drift. Each event " +
			"carries its time and a tick number counted from 1. In text, a line is \"timer\", " +
			"\"-\" (no client), the time, an empty payload column and \"tick=N\", separated by " +
			"tabs, as every event is (docs/events.md). The command runs " +
			"until --count events are printed, or until SIGINT or SIGTERM, and exits 0.\n\n" +
			"  ipcctl timer --count 3 1s\n" +
			"  ipcctl --json timer 200ms | while read -r event; do ...; done",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "count", Aliases: []string{"n"}, Usage: "exit after `N` events (0: never)"},
		},
		Action: runTimer,
	}
}

func runTimer(c *cli.Context) error {
	g, err := globalsOf(c)
	if err != nil {
		return err
	}
	if err := checkArgs(c, 1, 1); err != nil {
		return err
	}
	period, err := time.ParseDuration(c.Args().First())
	if err != nil || period <= 0 {
		return UsageErrorf("bad duration %q: want a positive duration such as %s", c.Args().First(), durationExamples)
	}
	count := c.Int("count")
	if count < 0 {
		return UsageErrorf("bad --count %d: want 0 (never stop) or more", count)
	}
	ctx, stop := signalContext(c)
	defer stop()
	enc := g.Encoder()
	return tick(ctx.Done(), enc, period, count)
}

// tick writes a timer event to enc every period until count events (0:
// no limit) or until done is closed. A time.Ticker keeps the ticks on the
// clock whatever the time spent writing.
func tick(done <-chan struct{}, enc format.Encoder, period time.Duration, count int) error {
	t := time.NewTicker(period)
	defer t.Stop()
	for n := 1; count == 0 || n <= count; n++ {
		select {
		case <-done:
			return nil
		case now := <-t.C:
			r := format.Record{Event: "timer", Time: now, Fields: []format.Field{{Key: "tick", Value: n}}}
			if err := errors.Join(enc.Write(&r), enc.Flush()); err != nil {
				return err
			}
		}
	}
	return nil
}

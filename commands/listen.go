package commands

import (
	"context"
	"errors"
	"io"

	"github.com/ipcctl/ipcctl/ipc"
	"github.com/urfave/cli/v2"
)

func listenCommand() *cli.Command {
	return &cli.Command{
		Name:      "listen",
		Usage:     "print every message a service sends (subscriber)",
		ArgsUsage: "NAME",
		Description: "Connects to service NAME and prints every message that arrives: one per line, " +
			"escaped (\\n, \\t, \\\\, \\xNN) so each is one line; --raw prints their exact bytes; " +
			"--format json prints one object per message. It ends with exit 0 when the service " +
			"closes the connection or after --count messages, and with exit 124 when --timeout " +
			"passes first. Output is flushed whenever no more input is waiting, so a pipe reader " +
			"sees each message at once." + listenBusDescription,
		Flags: append([]cli.Flag{
			flagCount,
			flagTimeout,
			&cli.BoolFlag{Name: "raw", Usage: "print the exact bytes of each message, with nothing added"},
			flagWaitService,
			flagMaxSize,
		}, listenBusFlags()...),
		Action: runListen,
	}
}

// runListen is the listen command.
func runListen(c *cli.Context) error {
	g, err := globalsOf(c)
	if err != nil {
		return err
	}
	if busListenRequested(c) {
		return runBusListen(c, g)
	}
	if err := checkArgs(c, 1, 1); err != nil {
		return err
	}
	count := c.Int("count")
	if count < 0 {
		return UsageErrorf("--count must be positive")
	}
	ctx, stop := signalContext(c)
	defer stop()
	conn, err := dialService(ctx, c, g)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := timeoutContext(ctx, c.Duration("timeout"))
	defer cancel()
	out := stdoutWriter(c, payloadMode(g, c.Bool("raw")))
	err = receive(ctx, conn, out, count)
	switch {
	case err == io.EOF, errors.Is(err, ipc.ErrPeerClosed):
		return nil // the service closed, however it showed
	case errors.Is(err, ipc.ErrTimeout):
		return timeoutErr(err, c.Duration("timeout"))
	case err != nil && ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
		return nil // interrupted: a normal way to stop listening
	}
	return err
}

package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ipcctl/ipcctl/format"
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
			"sees each message at once.\n\n" +
			"With --retry, listen outlives a restart of the service: when the service closes the " +
			"connection or is not there yet, it waits for the service to come back (checking a few " +
			"times a second) and listens again, until --count messages in all, --timeout, or SIGINT " +
			"or SIGTERM. Messages sent while no service runs are not seen.\n\n" +
			"  ipcctl listen news --count 10\n" +
			"  ipcctl listen news --retry > news.log &" + listenBusDescription,
		Flags: append([]cli.Flag{
			flagCount,
			flagTimeout,
			&cli.BoolFlag{Name: "raw", Usage: "print the exact bytes of each message, with nothing added"},
			&cli.BoolFlag{Name: "retry", Usage: "when the service goes away, wait for it to come back and listen again"},
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
	ctx, cancel := timeoutContext(ctx, c.Duration("timeout"))
	defer cancel()
	out := stdoutWriter(c, payloadMode(g, c.Bool("raw")))
	if c.Bool("retry") {
		err = listenRetrying(ctx, c, g, out, count)
	} else {
		err = listenOnce(ctx, c, g, out, count)
	}
	switch {
	case err == io.EOF, errors.Is(err, ipc.ErrPeerClosed):
		return nil // the service closed, however it showed
	case errors.Is(err, ipc.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return timeoutErr(fmt.Errorf("%w", ipc.ErrTimeout), c.Duration("timeout"))
	case err != nil && ctx.Err() != nil:
		return nil // interrupted: a normal way to stop listening
	}
	return err
}

// listenOnce prints what one connection to the service receives.
func listenOnce(ctx context.Context, c *cli.Context, g Globals, out *format.PayloadWriter, count int) error {
	conn, err := dialService(ctx, c, g)
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = receive(ctx, conn, out, count)
	return err
}

// retryWait is how long listen --retry waits for the service each time
// before it looks again; it is cut short by ctx.
const retryWait = 24 * time.Hour

// listenRetrying is listen --retry: it connects again each time the
// service goes away, until count messages in all or ctx ends.
func listenRetrying(ctx context.Context, c *cli.Context, g Globals, out *format.PayloadWriter, count int) error {
	for left := count; ; {
		conn, err := dialWaiting(ctx, c, g, retryWait)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, ipc.ErrTimeout) && !gone(err) {
				return ctx.Err()
			}
			return err
		}
		if g.Verbose {
			fmt.Fprintf(g.Stderr, "ipcctl: listening to %s\n", c.Args().First())
		}
		n, err := receive(ctx, conn, out, left)
		conn.Close()
		if count > 0 {
			if left -= n; left <= 0 {
				return nil
			}
		}
		if !gone(err) {
			return err
		}
	}
}

// gone reports whether err means the service went away, which --retry
// outlives: a closed connection, a reset, a socket no longer there.
func gone(err error) bool {
	return err == io.EOF || errors.Is(err, ipc.ErrPeerClosed) || errors.Is(err, ipc.ErrRefused) || errors.Is(err, ipc.ErrNoService)
}

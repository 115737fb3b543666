package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ipcctl/ipcctl/format"
	"github.com/ipcctl/ipcctl/ipc"
	"github.com/ipcctl/ipcctl/ipc/bridge"
	"github.com/urfave/cli/v2"
)

// Flags shared by the client commands (send, listen, connect).
var (
	flagTimeout = &cli.DurationFlag{
		Name:  "timeout",
		Usage: "give up waiting after `DUR` (exit 124)",
	}
	flagWaitService = &cli.DurationFlag{
		Name:  "wait-service",
		Usage: "wait up to `DUR` for the service to appear instead of failing at once",
	}
	flagMaxSize = &cli.StringFlag{
		Name:  "max-size",
		Usage: "refuse received messages over `BYTES` (suffixes K, KiB, M, MiB)",
		Value: "1MiB",
	}
	flagCount = &cli.IntFlag{
		Name:    "count",
		Aliases: []string{"n"},
		Usage:   "stop after `N` messages",
	}
)

// dialService connects to the service named by the command's first
// argument, with the client flags.
func dialService(ctx context.Context, c *cli.Context, g Globals) (*ipc.Conn, error) {
	if err := checkArgs(c, 1, -1); err != nil {
		return nil, err
	}
	max, err := sizeFlag(c, "max-size")
	if err != nil {
		return nil, err
	}
	return dialFrames(ctx, c, g, max)
}

// dialFrames is dialService accepting frames of up to max bytes.
func dialFrames(ctx context.Context, c *cli.Context, g Globals, max int) (*ipc.Conn, error) {
	return dialWith(ctx, c, g, max, c.Duration("wait-service"))
}

// dialWaiting is dialService waiting up to wait for the service to appear.
func dialWaiting(ctx context.Context, c *cli.Context, g Globals, wait time.Duration) (*ipc.Conn, error) {
	max, err := sizeFlag(c, "max-size")
	if err != nil {
		return nil, err
	}
	return dialWith(ctx, c, g, max, wait)
}

// dialWith connects to the command's service, waiting up to wait for it.
func dialWith(ctx context.Context, c *cli.Context, g Globals, max int, wait time.Duration) (*ipc.Conn, error) {
	conn, err := bridge.Dial(ctx, c.Args().First(), ipc.DialOptions{
		RunDir:      g.RunDir,
		MaxSize:     max,
		Wait:        wait,
		TrustOwners: g.TrustOwners,
	})
	if err == nil && g.Verbose {
		fmt.Fprintf(g.Stderr, "ipcctl: connected to %s at %s\n", c.Args().First(), remoteAddr(conn))
	}
	return conn, err
}

// remoteAddr names where conn leads: a socket path or a network address.
func remoteAddr(conn *ipc.Conn) string {
	if nc := conn.NetConn(); nc != nil && nc.RemoteAddr() != nil && nc.RemoteAddr().String() != "" {
		return nc.RemoteAddr().String()
	}
	return "an unnamed socket"
}

// sizeFlag reads a size flag, naming the flag in a usage error.
func sizeFlag(c *cli.Context, name string) (int, error) {
	n, err := parseSize(c.String(name))
	if err != nil {
		return 0, UsageErrorf("--%s: %v", name, err)
	}
	return n, nil
}

// payloadMode is how received payloads are printed: --raw bytes, JSON
// objects with --format json, else escaped lines.
func payloadMode(g Globals, raw bool) format.Mode {
	switch {
	case raw:
		return format.Raw
	case g.JSON:
		return format.JSON
	}
	return format.Text
}

// timeoutContext bounds ctx by d when d is positive.
func timeoutContext(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d > 0 {
		return context.WithTimeout(ctx, d)
	}
	return context.WithCancel(ctx)
}

// receive prints messages from conn until count are printed (0: no
// bound), the service closes (io.EOF), or ctx ends (ErrTimeout on a passed
// deadline), and returns how many it printed. The messages already read
// are printed straight from the connection's buffer; when none is left,
// it flushes out and waits for more, so a pipe reader sees each message
// at once while a fast stream costs one read, one write and no allocation
// per buffer of messages.
func receive(ctx context.Context, conn *ipc.Conn, out *format.PayloadWriter, count int) (n int, err error) {
	for ; count <= 0 || n < count; n++ {
		p, ok := conn.ReadBuffered()
		if !ok {
			if err := out.Flush(); err != nil {
				return n, err
			}
			if p, err = conn.ReadContext(ctx); err != nil {
				return n, err
			}
		}
		if err := out.WriteMessage(p); err != nil {
			return n, err
		}
	}
	return n, out.Flush()
}

// closedEarly explains an end of stream before the expected replies. A
// service that ends the connection early, whatever the way, is
// unavailable: exit 69, every time.
func closedEarly(name string, got, want int) error {
	switch {
	case got == 0:
		// Nothing was answered: as far as the client can tell, the
		// service is not serving it (full, or its handler failed).
		return closedError(fmt.Sprintf("service %s closed the connection without replying: it refused "+
			"this client, or its handler failed (the service's error event says which)", name))
	case want < 0:
		return closedError(fmt.Sprintf("service %s closed the connection after %d replies", name, got))
	}
	return closedError(fmt.Sprintf("service %s closed the connection after %d of %d replies", name, got, want))
}

// closedError is a service that ended the connection early: it reads as
// its message and matches ipc.ErrPeerClosed.
type closedError string

func (e closedError) Error() string { return string(e) }
func (e closedError) Unwrap() error { return ipc.ErrPeerClosed }

// peerGone reports whether err says the service ended the connection:
// an end of stream, a reset, or a write that found it gone.
func peerGone(err error) bool {
	return err == io.EOF || errors.Is(err, ipc.ErrPeerClosed)
}

// stdoutWriter returns the payload printer on stdout.
func stdoutWriter(c *cli.Context, mode format.Mode) *format.PayloadWriter {
	return format.NewPayloadWriter(c.App.Writer, mode)
}

// defaultTimeout is how long clients wait for replies unless told.
const defaultTimeout = 5 * time.Second

// timeoutErr names the --timeout in an ErrTimeout.
func timeoutErr(err error, d time.Duration) error {
	if errors.Is(err, ipc.ErrTimeout) {
		return fmt.Errorf("%w: no reply within --timeout %s", ipc.ErrTimeout, d)
	}
	return err
}

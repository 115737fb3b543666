package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ipcctl/ipcctl/ipc"
	"github.com/ipcctl/ipcctl/ipc/bus"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

// listenBusDescription is the part of listen's help about buses.
const listenBusDescription = "\n\nOn a bus (serve --bus), --group G subscribes to group G (repeatable) and " +
	"prints the messages sent to it, and to this client's own address, as above. --presence " +
	"subscribes to the bus's presence notices and prints every message and notice as an event: " +
	"\"connection\", \"disconnection\", \"subscribe\", \"unsubscribe\" (the client's address, " +
	"its pid, uid and gid, group= the group concerned, groups= its groups after the change) and " +
	"\"message\" (the sender's address, the payload, group= or to=, call= for a call). With " +
	"--format json every message is an object with \"from\", \"group\" (or \"to\") and " +
	"\"call\".\n\n" +
	"Readiness: listen subscribes before it prints anything, so a script can subscribe first " +
	"and then load the state it follows without losing an update. With --format json (or " +
	"--presence) the first event is \"subscribed\", with listen's own address and its groups, " +
	"once every subscription is in place (-q leaves it out, and the warnings on stderr, but never " +
	"a message or a presence notice); in text mode stdout carries payloads only, so " +
	"-v prints \"ipcctl: subscribed to G as ADDR\" on stderr then, and --ready-fd N writes a " +
	"newline to file descriptor N and closes it (as s6's notification-fd).\n\n" +
	"--handler CMD answers the calls (send -w) made to the groups: CMD runs through /bin/sh once " +
	"per call, its stdin the call's payload and a newline, its stdout the answer less one " +
	"trailing newline (--raw: both exact). Its environment has IPCSERVICE, IPCBUSADDR (this " +
	"client), IPCBUSFROM (the caller), IPCBUSGROUP, IPCBUSCALL and IPCMSGSIZE. A handler that " +
	"fails answers with an error and its exit status (128+N when killed by signal N); the caller " +
	"exits 1 with it. At most --max-procs handlers run at once. Messages that are not calls " +
	"are printed as usual.\n\n" +
	"  ipcctl listen events --group config --format json\n" +
	"  ipcctl listen events --group upper --handler 'tr a-z A-Z'"

// listenBusFlags are listen's bus flags.
func listenBusFlags() []cli.Flag {
	return []cli.Flag{
		groupFlag("on a bus: subscribe to group `G` (repeatable)"),
		&cli.BoolFlag{Name: "presence", Usage: "on a bus: print presence notices (and every message) as events", DisableDefaultText: true},
		&cli.StringFlag{Name: "handler", Usage: "on a bus: answer each call to the groups with the output of `CMD`"},
		&cli.IntFlag{Name: "max-procs", Usage: "with --handler, run at most `N` handlers at once", Value: defaultMaxProcs},
		&cli.IntFlag{Name: "ready-fd", Usage: "on a bus: once subscribed, write a newline to file descriptor `N` and close it"},
	}
}

// busListenRequested reports whether listen was asked to speak the bus.
func busListenRequested(c *cli.Context) bool {
	for _, name := range []string{"group", "presence", "handler", "ready-fd"} {
		if c.IsSet(name) {
			return true
		}
	}
	return false
}

// busListener is one listen --group or --presence.
type busListener struct {
	cl      *bus.Client
	name    string
	out     *busPrinter
	handler *busHandler // nil without --handler
	count   int
}

// runBusListen is listen on a bus.
func runBusListen(c *cli.Context, g Globals) error {
	groups, err := listenGroups(c)
	if err != nil {
		return err
	}
	ctx, stop := signalContext(c)
	defer stop()
	ctx, cancel := timeoutContext(ctx, c.Duration("timeout"))
	defer cancel()
	cl, err := dialBus(ctx, c, g)
	if err != nil {
		return listenEnd(ctx, c, err)
	}
	defer cl.Close()
	if err := cl.Subscribe(ctx, groups...); err != nil {
		return listenEnd(ctx, c, err)
	}
	l := &busListener{cl: cl, name: c.Args().First(), count: c.Int("count"),
		out: newBusPrinter(g, c.Bool("raw"), c.Bool("presence"))}
	if err := l.ready(c, g, groups); err != nil {
		return err
	}
	if line := c.String("handler"); line != "" {
		max, _ := sizeFlag(c, "max-size")
		l.handler = newBusHandler(cl, l.name, line, c.Bool("raw"), max, c.Int("max-procs"))
		defer l.handler.stop()
	}
	return listenEnd(ctx, c, l.run(ctx))
}

// listenGroups checks listen's bus flags and returns the groups to
// subscribe to.
func listenGroups(c *cli.Context) ([]string, error) {
	if err := checkArgs(c, 1, 1); err != nil {
		return nil, err
	}
	groups, err := busGroups(c)
	switch {
	case err != nil:
		return nil, err
	case c.Int("count") < 0:
		return nil, UsageErrorf("--count must be positive")
	case c.IsSet("handler") && len(groups) == 0:
		return nil, UsageErrorf("--handler answers the calls to a group: give --group")
	case c.IsSet("handler") && c.String("handler") == "":
		return nil, UsageErrorf("--handler needs a command")
	case c.Int("max-procs") < 1:
		return nil, UsageErrorf("--max-procs must be at least 1")
	case c.Bool("presence") && c.Bool("raw"):
		return nil, UsageErrorf("--presence prints events; --raw prints payloads only")
	case !c.Bool("presence") && len(groups) == 0:
		return nil, UsageErrorf("--ready-fd is for a bus subscriber: give --group or --presence")
	}
	if c.Bool("presence") {
		groups = append(groups, bus.PresenceGroup)
	}
	return groups, nil
}

// listenEnd turns how a listen ended into its error, as listen does
// without a bus: the bus closing and an interruption are normal ends.
func listenEnd(ctx context.Context, c *cli.Context, err error) error {
	switch {
	case err == nil, err == io.EOF, errors.Is(err, ipc.ErrClosed) && ctx.Err() == nil:
		return nil
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.Is(err, ipc.ErrTimeout):
		return fmt.Errorf("%w: --timeout %s passed", ipc.ErrTimeout, c.Duration("timeout"))
	case ctx.Err() != nil:
		return nil // interrupted: a normal way to stop listening
	}
	return err
}

// ready tells that every subscription is in place: a "subscribed" event
// when printing events, a note under -v, a newline on --ready-fd.
func (l *busListener) ready(c *cli.Context, g Globals, groups []string) error {
	if err := l.out.subscribed(l.cl.Addr(), groups); err != nil {
		return err
	}
	if err := l.out.Flush(); err != nil {
		return err
	}
	if g.Verbose && !g.Quiet {
		fmt.Fprintf(g.Stderr, "ipcctl: subscribed to %s as %s\n", strings.Join(groups, " "), l.cl.Addr())
	}
	if fd := c.Int("ready-fd"); c.IsSet("ready-fd") {
		// A descriptor listen was given has no close-on-exec flag, unlike
		// every one Go opens (its sockets, its poller): one of those must
		// not be written to and closed.
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil || flags&unix.FD_CLOEXEC != 0 {
			return fmt.Errorf("--ready-fd %d: not an open file descriptor given to listen", fd)
		}
		f := os.NewFile(uintptr(fd), "ready-fd")
		_, err = f.Write([]byte("\n"))
		f.Close()
		if err != nil {
			return fmt.Errorf("--ready-fd %d: %w", fd, err)
		}
	}
	return nil
}

// run prints what arrives until --count messages, the bus closing, or ctx
// ending.
func (l *busListener) run(ctx context.Context) error {
	defer l.out.Flush()
	for n := 0; l.count <= 0 || n < l.count; {
		if l.cl.Conn().Buffered() == 0 {
			if err := l.out.Flush(); err != nil {
				return err
			}
		}
		h, body, err := l.cl.Recv(ctx)
		if err != nil {
			return err
		}
		counted, err := l.handle(ctx, &h, body)
		if err != nil {
			return err
		}
		if counted {
			n++
		}
	}
	if l.handler != nil {
		l.handler.wait() // the calls counted are answered before listen ends
	}
	return nil
}

// handle deals with one envelope and reports whether it counts toward
// --count: messages and presence notices do.
func (l *busListener) handle(ctx context.Context, h *bus.Header, body []byte) (bool, error) {
	switch h.Op {
	case "msg":
		if h.Call != 0 && l.handler != nil {
			return true, l.handler.call(ctx, *h, body)
		}
		return true, l.out.message(h, body)
	case "presence":
		return true, l.out.presence(h)
	case "dropped":
		return false, l.out.dropped(h)
	case "error":
		return false, errorOf(l.name, h)
	}
	return false, nil // acks and notices of calls this client did not make
}

package commands

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
	"github.com/ipcctl/ipcctl/ipc/bus"
	"github.com/urfave/cli/v2"
)

// sendBusDescription is the part of send's help about buses.
const sendBusDescription = "\n\nOn a bus (serve --bus), --group G publishes each message to group G and " +
	"--to ADDR sends it to the one client at address ADDR; send exits 0 once the bus has taken " +
	"them (a group with no members is not an error), 69 when no client has address ADDR, and 65 " +
	"when the bus refused one (a payload over its --max-size).\n\n" +
	"With -w, each message is a call and send prints its answer: to ADDR, or to the first member " +
	"of G that answers. --each (with --group) calls every member and prints every answer (with " +
	"--format json each carries \"from\", the member's address). A call to an empty group or an " +
	"unknown address exits 69 at once; a callee that disconnects (or leaves the group) before " +
	"answering, 69 at once; a callee whose handler failed answers with an error, printed on " +
	"stderr, and send exits 1; no answer within --timeout, 124. With --each, the members that " +
	"answered are printed, the others reported on stderr, and the status is the worst of " +
	"them. On a bus joined to NATS (serve --bus --nats), --each calls the members of G on every " +
	"bus, and a member of another bus that goes, or whose bus drops out, is reported as gone.\n\n" +
	"  ipcctl send events --group config reload\n" +
	"  ipcctl send -w events --group upper hello"

// sendBusFlags are send's bus flags.
func sendBusFlags() []cli.Flag {
	return []cli.Flag{
		groupFlag("on a bus: publish (or call, with -w) to group `G`"),
		&cli.StringFlag{Name: "to", Usage: "on a bus: send (or call, with -w) to the client at address `ADDR`"},
		&cli.BoolFlag{Name: "each", Usage: "with -w --group: call every member and print each answer", DisableDefaultText: true},
	}
}

// busSendRequested reports whether send was asked to speak the bus.
func busSendRequested(c *cli.Context) bool {
	return c.IsSet("group") || c.IsSet("to") || c.IsSet("each")
}

// busTarget is where send sends on a bus: a group or an address.
type busTarget struct {
	group, to string
}

// header returns the envelope of a message to t.
func (t busTarget) header() bus.Header {
	return bus.Header{Op: "msg", Group: t.group, To: t.to}
}

// runBusSend is send on a bus.
func runBusSend(c *cli.Context, g Globals) error {
	t, err := sendTarget(c)
	if err != nil {
		return err
	}
	max, err := sizeFlag(c, "max-size")
	if err != nil {
		return err
	}
	ctx, cancel := timeoutContext(c.Context, c.Duration("timeout"))
	defer cancel()
	cl, err := dialBus(ctx, c, g)
	if err != nil {
		return err
	}
	defer cl.Close()
	cl.Conn().SetQueue(ipc.DefaultQueueBytes, ipc.OverflowBlock)
	if !c.Bool("wait") {
		if err := publish(c, cl, t, max); err != nil {
			return err
		}
		return checkDelivered(ctx, cl, t, c.Duration("timeout"))
	}
	k := &caller{cl: cl, name: c.Args().First(), out: newBusPrinter(g, c.Bool("raw"), false),
		stderr: g.Stderr, each: c.Bool("each"), timeout: c.Duration("timeout")}
	return eachMessage(c, max, func(p []byte) error { return k.call(ctx, t, p) })
}

// sendTarget checks send's bus flags and returns where to send.
func sendTarget(c *cli.Context) (busTarget, error) {
	if err := checkArgs(c, 1, -1); err != nil {
		return busTarget{}, err
	}
	groups, err := busGroups(c)
	if err != nil {
		return busTarget{}, err
	}
	t := busTarget{to: c.String("to")}
	if c.IsSet("count") {
		return t, UsageErrorf("--count is not for a bus: a call has one answer, or one per member with --each")
	}
	switch {
	case len(groups) > 1:
		return t, UsageErrorf("send takes one --group")
	case len(groups) == 1 && c.IsSet("to"):
		return t, UsageErrorf("--group and --to contradict each other: give one")
	case len(groups) == 0 && !c.IsSet("to"):
		return t, UsageErrorf("--each calls the members of a group: give --group")
	case c.IsSet("to"):
		if err := checkAddr(t.to); err != nil {
			return t, UsageErrorf("--to: %v", err)
		}
	}
	if len(groups) == 1 {
		t.group = groups[0]
		if bus.Own(t.group) {
			return t, UsageErrorf("--group %s is the bus's own: only the bus sends to it", t.group)
		}
	}
	if c.Bool("each") && (t.group == "" || !c.Bool("wait")) {
		return t, UsageErrorf("--each calls every member of a group: give -w and --group")
	}
	return t, nil
}

// publish sends every message to t, batched: a burst of stdin lines costs
// a few system calls. Messages to an address ask for an undeliverable
// notice, which checkDelivered collects.
func publish(c *cli.Context, cl *bus.Client, t busTarget, max int) error {
	conn := cl.Conn()
	h := t.header()
	h.Undeliverable = t.to != ""
	var frame []byte
	err := eachMessage(c, max, func(p []byte) error {
		var err error
		frame, err = bus.AppendEncode(frame[:0], &h, p)
		if err != nil {
			return err
		}
		return conn.Schedule(frame)
	}, func() error { return conn.Flush(c.Context) })
	if ferr := conn.Flush(c.Context); err == nil {
		err = ferr
	}
	return err
}

// checkDelivered asks the bus for a list and reads what came before the
// answer: the bus handles a client's envelopes in order, so an error or
// an undeliverable notice for what publish sent arrives first. The list
// is of the group published to, or of the presence group for an address:
// a short answer, which serves only as a barrier.
func checkDelivered(ctx context.Context, cl *bus.Client, t busTarget, timeout time.Duration) error {
	const ref = 1<<63 + 1
	group := t.group
	if group == "" {
		group = bus.PresenceGroup
	}
	if err := cl.Send(&bus.Header{Op: "list", Group: group, Ref: ref}, nil); err != nil {
		return err
	}
	var undelivered error
	for {
		h, _, err := cl.Recv(ctx)
		switch {
		case errors.Is(err, ipc.ErrTimeout):
			return fmt.Errorf("%w: the bus did not confirm delivery within --timeout %s", ipc.ErrTimeout, timeout)
		case err != nil:
			return err
		case h.Op == "undeliverable":
			undelivered = undeliverableError(&h)
		case h.Op == "error":
			return errorOf(cl.Addr(), &h)
		case h.Op == "members" && h.Ref == ref:
			return undelivered
		}
	}
}

// eachMessage calls send for each message: the command-line arguments,
// else stdin (each line, or all of it as one message with --raw). idle,
// when given, runs whenever stdin has nothing more buffered.
func eachMessage(c *cli.Context, max int, send func(p []byte) error, idle ...func() error) error {
	args := c.Args().Tail()
	if len(args) > 0 {
		if c.Bool("raw") {
			return UsageErrorf("--raw sends stdin; give no MSG arguments with it")
		}
		for _, a := range args {
			if err := send([]byte(a)); err != nil {
				return err
			}
		}
		return nil
	}
	in := c.App.Reader
	if in == nil {
		in = os.Stdin
	}
	if c.Bool("raw") {
		p, err := io.ReadAll(io.LimitReader(in, int64(max)+1))
		if err != nil {
			return err
		}
		if len(p) > max {
			return fmt.Errorf("%w: stdin is over --max-size (%d bytes)", ipc.ErrTooLarge, max)
		}
		return send(p)
	}
	return eachLine(bufio.NewReaderSize(in, 64<<10), send, idle)
}

// eachLine calls send for each line of r, without its newline.
func eachLine(r *bufio.Reader, send func(p []byte) error, idle []func() error) error {
	for {
		if r.Buffered() == 0 {
			for _, f := range idle {
				if err := f(); err != nil {
					return err
				}
			}
		}
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("%w: stdin line over %d bytes; use --raw for large messages", ipc.ErrBadData, r.Size())
		}
		if len(line) > 0 && (err == nil || err == io.EOF) {
			if line[len(line)-1] == '\n' {
				line = line[:len(line)-1]
			}
			if serr := send(line); serr != nil {
				return serr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

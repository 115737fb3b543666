package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/ipcctl/ipcctl/format"
	"github.com/ipcctl/ipcctl/ipc"
	"github.com/ipcctl/ipcctl/ipc/bus"
	"github.com/urfave/cli/v2"
)

// connectBusDescription is the part of connect's help about buses.
const connectBusDescription = "\n\nOn a bus (serve --bus), --bus makes connect a bus client, and --group G " +
	"(repeatable, implies --bus) subscribes to G. " + connectBusLines + " With " +
	"--format json each message is an object with \"from\", \"group\" or \"to\", and \"call\". A " +
	"message nobody received is reported on stderr; a badly addressed line too, and connect then " +
	"exits 65 at the end. On a terminal, connect shows its own address in the prompt.\n\n" +
	"  ipcctl connect events --group chat"

// connectBusFlags are connect's bus flags.
func connectBusFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "bus", Usage: "speak the bus: lines addressed @ADDR or #GROUP", DisableDefaultText: true},
		groupFlag("with --bus: subscribe to group `G` (repeatable); plain lines go to the first"),
	}
}

// busConnectRequested reports whether connect was asked to speak the bus.
func busConnectRequested(c *cli.Context) bool {
	return c.Bool("bus") || c.IsSet("group")
}

// busSession is one connect --bus.
type busSession struct {
	*session
	cl       *bus.Client
	groups   []string
	printer  *busPrinter           // JSON only
	lineOut  *format.PayloadWriter // text: lines already escaped, as they are
	badLines int
	quiet    bool
}

// runBusConnect is connect on a bus.
func runBusConnect(c *cli.Context, g Globals) error {
	if err := checkArgs(c, 1, 1); err != nil {
		return err
	}
	groups, err := busGroups(c)
	if err != nil {
		return err
	}
	ctx, stop := signalContext(c)
	defer stop()
	cl, err := dialBus(ctx, c, g)
	if err != nil {
		return err
	}
	defer cl.Close()
	cl.Conn().SetQueue(ipc.DefaultQueueBytes, ipc.OverflowBlock)
	if err := cl.Subscribe(ctx, groups...); err != nil {
		return err
	}
	s := &busSession{session: newSession(c, g, cl.Conn()), cl: cl, groups: groups,
		lineOut: format.NewPayloadWriter(g.Stdout, format.Raw), quiet: g.Quiet}
	s.name = c.Args().First() + "@" + cl.Addr()
	if g.JSON {
		s.printer = newBusPrinter(g, false, true)
	}
	if g.Verbose && !g.Quiet {
		fmt.Fprintf(g.Stderr, "ipcctl: connected to bus %s as %s\n", c.Args().First(), cl.Addr())
	}
	if err := s.run(ctx); err != nil {
		return err
	}
	if s.badLines > 0 {
		return Silent(fmt.Errorf("%w: %d lines not sent", ipc.ErrBadData, s.badLines))
	}
	return nil
}

type envelope struct {
	h    bus.Header
	body []byte
}

// run sends stdin lines while printing what arrives, until the bus closes
// or stdin has ended and the linger time passed in silence.
func (s *busSession) run(ctx context.Context) error {
	msgs := make(chan envelope, 64)
	recvErr := make(chan error, 1)
	go func() {
		for {
			h, body, err := s.cl.Recv(ctx)
			if err != nil {
				recvErr <- err
				return
			}
			msgs <- envelope{h, body}
		}
	}()
	defer s.startEditor()()
	lines := make(chan []byte)
	inErr := make(chan error, 1)
	go s.readLines(lines, inErr)
	s.prompt()
	var linger <-chan time.Time
	for {
		select {
		case e := <-msgs:
			if err := s.show(&e, len(msgs) == 0); err != nil {
				return err
			}
			if linger != nil {
				linger = time.After(s.linger)
			}
		case err := <-recvErr:
			for len(msgs) > 0 {
				e := <-msgs
				s.show(&e, len(msgs) == 0)
			}
			if err == io.EOF || errors.Is(err, ipc.ErrClosed) || ctx.Err() != nil {
				return s.flush()
			}
			return err
		case line := <-lines:
			if err := s.sendLine(line); err != nil {
				return fmt.Errorf("bus %s: %w", s.name, err)
			}
			s.prompt()
		case err := <-inErr:
			if err != nil && err != io.EOF {
				return err
			}
			inErr, lines = nil, nil
			linger = time.After(s.linger)
		case <-linger:
			return s.flush()
		case <-ctx.Done():
			return s.flush()
		}
	}
}

// show prints one envelope from the bus.
func (s *busSession) show(e *envelope, flush bool) error {
	switch e.h.Op {
	case "msg":
		if s.printer != nil {
			return s.printJSON(s.printer.message(&e.h, e.body), flush)
		}
		s.printText(incomingLine(&e.h, e.body), flush)
	case "presence":
		if s.printer != nil {
			return s.printJSON(s.printer.presence(&e.h), flush)
		}
		line := "@" + e.h.Addr + " !" + e.h.Event
		if e.h.Group != "" {
			line += " #" + e.h.Group
		}
		s.printText([]byte(line), flush)
	case "undeliverable":
		if e.h.To != "" {
			s.note("warning", "nobody received the message to @"+e.h.To)
		} else {
			s.note("warning", "nobody received the message to #"+e.h.Group+": it has no members")
		}
	case "dropped":
		s.note("warning", fmt.Sprintf("the bus dropped %d messages for this client, which read too slowly", e.h.Count))
	case "subscribed":
		s.tell("subscribed to " + e.h.Group)
	case "unsubscribed":
		s.tell("unsubscribed from " + e.h.Group)
	case "error":
		if e.h.Group != "" { // a subscription refused: the client stays
			s.badLines++
			s.joined("unsub", e.h.Group)
			s.note("error", e.h.Error)
			return nil
		}
		return errorOf(s.name, &e.h)
	}
	return nil
}

// incomingLine is a message as text: its addressing, then the payload
// escaped.
func incomingLine(h *bus.Header, body []byte) []byte {
	var b []byte
	if h.Call != 0 {
		b = append(b, '?')
		b = strconv.AppendUint(b, h.Call, 10)
		b = append(b, ' ')
	}
	b = append(b, '@')
	b = append(b, h.From...)
	if h.Group != "" {
		b = append(b, " #"...)
		b = append(b, h.Group...)
	}
	b = append(b, ' ')
	return format.Escape(b, body)
}

// printText prints a line that is already escaped; on a terminal it
// redraws the prompt.
func (s *busSession) printText(line []byte, flush bool) {
	if s.tty {
		s.above(func() {
			s.lineOut.WriteMessage([]byte(s.style.Incoming(string(line)) + "\n"))
			s.lineOut.Flush()
		})
		return
	}
	s.lineOut.WriteMessage(append(line, '\n'))
	if flush {
		s.lineOut.Flush()
	}
}

func (s *busSession) printJSON(err error, flush bool) error {
	if err == nil && flush {
		err = s.printer.Flush()
	}
	return err
}

// note tells the user something on stderr, between prompts; -q leaves
// out the warnings, never the errors.
func (s *busSession) note(kind, text string) {
	if s.quiet && kind == "warning" {
		return
	}
	s.flush()
	s.above(func() {
		fmt.Fprintf(s.stderr, "ipcctl: %s: %s\n", kind, strings.TrimPrefix(text, "ipcctl: "))
	})
}

// tell says what the bus did on stderr, between prompts, unless --quiet.
func (s *busSession) tell(text string) {
	if s.quiet {
		return
	}
	s.flush()
	if s.tty {
		fmt.Fprint(s.stderr, "\r\033[K")
	}
	fmt.Fprintf(s.stderr, "ipcctl: %s\n", text)
	s.prompt()
}

// flush writes out what is buffered.
func (s *busSession) flush() error {
	if s.printer != nil {
		return s.printer.Flush()
	}
	return s.lineOut.Flush()
}

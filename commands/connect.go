package commands

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ipcctl/ipcctl/format"
	"github.com/ipcctl/ipcctl/internal/lineedit"
	"github.com/ipcctl/ipcctl/ipc"
	"github.com/mattn/go-isatty"
	"github.com/urfave/cli/v2"
)

func connectCommand() *cli.Command {
	return &cli.Command{
		Name:      "connect",
		Usage:     "talk to a service: stdin lines out, messages in",
		ArgsUsage: "NAME",
		Description: "Connects to service NAME. Each line of stdin is sent as one message (without " +
			"its newline); each message received is printed as it arrives, escaped so it is one " +
			"line (or one JSON object with --format json). On a terminal, connect shows a prompt " +
			"on stderr and colours incoming messages (--color, NO_COLOR), and edits the line itself: " +
			"a message that arrives while a line is typed is printed above it and the line drawn " +
			"again; Backspace, Ctrl-U (erase the line), Ctrl-W (erase a word) and Ctrl-L (redraw) " +
			"work, Ctrl-D on an empty line ends stdin, and Ctrl-C ends connect on a fresh line; the " +
			"terminal is given back as it was however connect ends. Otherwise it prints plain " +
			"lines only, coloured with --color always. It ends when the service closes the " +
			"connection (exit 0, whether the close shows as an end of stream, a reset or a line " +
			"that cannot be written), or when stdin ends and --linger (default 1s) has passed with " +
			"no message arriving." + connectBusDescription,
		Flags: append([]cli.Flag{
			&cli.DurationFlag{Name: "linger", Usage: "after stdin ends, wait `DUR` for replies", Value: time.Second},
			flagWaitService,
			flagMaxSize,
		}, connectBusFlags()...),
		Action: runConnect,
	}
}

// runConnect is the connect command.
func runConnect(c *cli.Context) error {
	g, err := globalsOf(c)
	if err != nil {
		return err
	}
	if busConnectRequested(c) {
		return runBusConnect(c, g)
	}
	if err := checkArgs(c, 1, 1); err != nil {
		return err
	}
	ctx, stop := signalContext(c)
	defer stop()
	conn, err := dialService(ctx, c, g)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetQueue(ipc.DefaultQueueBytes, ipc.OverflowBlock)
	s := newSession(c, g, conn)
	return s.run(ctx)
}

// session is one interactive or scripted connect.
type session struct {
	name   string
	conn   *ipc.Conn
	in     io.Reader
	out    *format.PayloadWriter
	tty    bool
	style  format.Style
	stderr io.Writer
	linger time.Duration
	ed     *lineedit.Editor // on a terminal: the line being typed, kept below messages
}

func newSession(c *cli.Context, g Globals, conn *ipc.Conn) *session {
	in := c.App.Reader
	if in == nil {
		in = os.Stdin
	}
	f, isFile := in.(*os.File)
	tty := isFile && isatty.IsTerminal(f.Fd()) && !g.JSON
	// --color always colours a pipe too; auto colours a terminal only.
	colour := !g.JSON && format.UseColor(g.Color, os.Stdout)
	return &session{
		name:   c.Args().First(),
		conn:   conn,
		in:     in,
		out:    stdoutWriter(c, payloadMode(g, false)),
		tty:    tty,
		style:  format.NewStyle(colour),
		stderr: c.App.ErrWriter,
		linger: c.Duration("linger"),
	}
}

// run sends stdin lines while printing what arrives, until the service
// closes or stdin has ended and the linger time passed in silence.
func (s *session) run(ctx context.Context) error {
	msgs := make(chan []byte, 64)
	recvErr := make(chan error, 1)
	go func() {
		for {
			p, err := s.conn.ReadMessage()
			if err != nil {
				recvErr <- err
				return
			}
			msgs <- p
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
		case p := <-msgs:
			s.print(p, len(msgs) == 0)
			if linger != nil {
				linger = time.After(s.linger)
			}
		case err := <-recvErr:
			for len(msgs) > 0 {
				s.print(<-msgs, len(msgs) == 0)
			}
			if err == io.EOF || errors.Is(err, ipc.ErrClosed) || errors.Is(err, ipc.ErrPeerClosed) {
				return s.out.Flush() // the service closed: the end, however it showed
			}
			return err
		case line := <-lines:
			err := s.conn.Write(line)
			if errors.Is(err, ipc.ErrPeerClosed) {
				// The service closed: stop sending, and end as the
				// reader sees it, after what came before.
				inErr, lines = nil, nil
				continue
			}
			if err != nil {
				return fmt.Errorf("service %s: %w", s.name, err)
			}
			s.prompt()
		case err := <-inErr:
			if err != nil && err != io.EOF {
				return err
			}
			inErr, lines = nil, nil
			linger = time.After(s.linger)
		case <-linger:
			return s.out.Flush()
		case <-ctx.Done():
			return s.out.Flush()
		}
	}
}

// startEditor takes over the terminal when stdin and stderr are one, so
// that a message arriving while a line is typed does not cut the line,
// and returns what gives the terminal back: it runs on every way out of
// connect, a signal (SIGINT, SIGTERM, SIGHUP) included.
func (s *session) startEditor() (restore func()) {
	in, _ := s.in.(*os.File)
	out, _ := s.stderr.(*os.File)
	if !s.tty || in == nil || out == nil || !isatty.IsTerminal(out.Fd()) {
		return func() {}
	}
	ed, err := lineedit.New(in, out, s.style.Prompt(s.name+"> "))
	if err != nil {
		return func() {} // a terminal without termios: lines as the kernel edits them
	}
	s.ed = ed
	return func() { ed.Close() }
}

// readLines sends each line of stdin (newline removed) to lines.
func (s *session) readLines(lines chan<- []byte, done chan<- error) {
	if s.ed != nil {
		s.ed.ReadLines(lines, done)
		return
	}
	r := bufio.NewReaderSize(s.in, 64<<10)
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			line = line[:len(line)-1]
			if n := len(line); s.tty && n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
		}
		if len(line) > 0 || err == nil {
			lines <- line
		}
		if err != nil {
			done <- err
			return
		}
	}
}

// print shows one received message; on a terminal it redraws the prompt.
func (s *session) print(p []byte, flush bool) {
	if s.tty {
		s.above(func() {
			s.out.WriteMessageStyled(p, s.style.Incoming)
			s.out.Flush()
		})
		return
	}
	if s.style.Enabled() {
		s.out.WriteMessageStyled(p, s.style.Incoming)
	} else {
		s.out.WriteMessage(p)
	}
	if flush {
		s.out.Flush()
	}
}

// above runs write, which prints on the terminal, with the prompt and
// what is being typed out of its way, and shows them again after it.
func (s *session) above(write func()) {
	if s.ed != nil {
		s.ed.Print(write)
		return
	}
	if s.tty {
		fmt.Fprint(s.stderr, "\r\033[K")
	}
	write()
	s.prompt()
}

// prompt shows the service's name as a prompt on a terminal; the line
// editor shows its own.
func (s *session) prompt() {
	if s.tty && s.ed == nil {
		fmt.Fprint(s.stderr, s.style.Prompt(s.name+"> "))
	}
}

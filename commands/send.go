package commands

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
	"github.com/urfave/cli/v2"
)

func sendCommand() *cli.Command {
	return &cli.Command{
		Name:      "send",
		Usage:     "send messages to a service, and optionally wait for replies",
		ArgsUsage: "NAME [MSG...]",
		Description: "Connects to service NAME and sends each MSG as one message, byte for byte. " +
			"With no MSG, each line of stdin is a message (without its newline); with --raw, " +
			"the whole of stdin is one message. Exits 0 once everything is written.\n\n" +
			"With --wait (-w), send then prints the replies: by default one reply per message " +
			"sent, or --count N (-n N), which implies --wait. It keeps reading after stdin ends, so no reply is lost, and " +
			"gives up after --timeout (default 5s, exit 124). Replies print one per line, escaped " +
			"(\\n, \\t, \\\\, \\xNN) so each is one line; --raw prints their exact bytes; " +
			"--format json prints one object per reply. A service that closes the connection " +
			"before answering makes send fail at once, with exit 69 whether or not some replies came; exit 77 " +
			"says that the service's allow list refuses the user.\n\n" +
			"--wait-service DUR waits for NAME to appear instead of failing with exit 69. When " +
			"IPC_NETWORK has a rule for NAME, send reaches it through that URI." + sendBusDescription,
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "wait", Aliases: []string{"w"}, Usage: "wait for replies and print them"},
			&cli.IntFlag{Name: "count", Aliases: []string{"n"}, Usage: "wait for `N` replies and print them (implies --wait; without it, one reply per message)"},
			&cli.DurationFlag{Name: "timeout", Usage: "with --wait, give up after `DUR` (exit 124)", Value: defaultTimeout},
			&cli.BoolFlag{Name: "raw", Usage: "send stdin as one message, and print replies as exact bytes"},
			flagWaitService,
			flagMaxSize,
		}, sendBusFlags()...),
		Action: runSend,
	}
}

// runSend is the send command.
func runSend(c *cli.Context) error {
	g, err := globalsOf(c)
	if err != nil {
		return err
	}
	if busSendRequested(c) {
		return runBusSend(c, g)
	}
	wait := c.Bool("wait") || c.IsSet("count")
	count := c.Int("count")
	if count < 0 {
		return UsageErrorf("--count must be positive")
	}
	ctx := c.Context
	conn, err := dialService(ctx, c, g)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetQueue(ipc.DefaultQueueBytes, ipc.OverflowBlock)
	if !wait {
		if _, err := sendAll(c, conn); peerGone(err) {
			return fmt.Errorf("service %s closed the connection before taking every message: %w", c.Args().First(), err)
		} else if err != nil {
			return err
		}
		return nil
	}
	ctx, cancel := timeoutContext(ctx, c.Duration("timeout"))
	defer cancel()
	return sendAndWait(ctx, c, g, conn, count)
}

// afterSend, when set by a test, runs between the last message sent and
// the count of messages becoming known.
var afterSend func()

// sendAndWait sends while it prints the replies, so that a service
// answering every message of a long stdin never blocks on us. Without
// --count the number of replies to wait for is known only once stdin ends.
func sendAndWait(ctx context.Context, c *cli.Context, g Globals, conn *ipc.Conn, count int) error {
	out := stdoutWriter(c, payloadMode(g, c.Bool("raw")))
	var target, got atomic.Int64
	target.Store(int64(count))
	if count == 0 {
		target.Store(-1)
	}
	sent := make(chan error, 1)
	send := func() {
		n, err := sendAll(c, conn)
		if afterSend != nil {
			afterSend()
		}
		if err == nil && count == 0 {
			target.Store(int64(n))
			if got.Load() >= int64(n) {
				conn.Close() // the reader may be blocked with nothing more to come
			}
		}
		sent <- err
	}
	if directArgs(c) {
		send() // written before the replies are read, without a goroutine
	} else {
		go send()
	}
	done := func() bool { t := target.Load(); return t >= 0 && got.Load() >= t }
	var sendErr error
	finished := false
	for !done() {
		if conn.Buffered() == 0 {
			if err := out.Flush(); err != nil {
				return err
			}
		}
		p, err := conn.ReadContext(ctx)
		if err != nil {
			// A service that answers and closes at once may be read
			// before the sending side has counted what it sent.
			sendErr, finished = senderResult(ctx, sent, peerGone(err))
			if done() {
				break
			}
			if !finished && errors.Is(err, ipc.ErrClosed) {
				sendErr = conn.Err() // a failed write closed the connection
			}
			return replyError(c, err, sendErr, int(got.Load()), int(target.Load()))
		}
		if err := out.WriteMessage(p); err != nil {
			return err
		}
		got.Add(1)
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if finished {
		return sendErr
	}
	select {
	case err := <-sent:
		return err
	default:
		return nil // replies came before stdin ended: enough
	}
}

// sendGrace bounds the wait, once the service has closed, for the sending
// side to end: it ends at once unless stdin is still open.
const sendGrace = time.Second

// senderResult returns the sending side's error and whether it has ended;
// when wait is set it waits for the end up to sendGrace (and ctx).
func senderResult(ctx context.Context, sent <-chan error, wait bool) (error, bool) {
	if !wait {
		select {
		case err := <-sent:
			return err, true
		default:
			return nil, false
		}
	}
	t := time.NewTimer(sendGrace)
	defer t.Stop()
	select {
	case err := <-sent:
		return err, true
	case <-t.C:
	case <-ctx.Done():
	}
	return nil, false
}

// replyError explains why the replies stopped with err, serr being the
// sending side's error if it has one. A service that ended the
// connection, whichever way it showed (an end of stream, a reset, a write
// of ours that found it gone), is closedEarly; an error of the sending
// side that is not that comes first.
func replyError(c *cli.Context, err, serr error, got, want int) error {
	switch {
	case serr != nil && !peerGone(serr):
		return serr
	case peerGone(err) || peerGone(serr):
		return closedEarly(c.Args().First(), got, want)
	}
	return timeoutErr(err, c.Duration("timeout"))
}

// directMax bounds the command-line messages that are written at once,
// in the caller's goroutine, before any reply is read: the socket's
// buffer takes them whole, so a service that answers each one as it
// reads it is never left blocked on replies nobody reads.
const directMax = 64 << 10

// directArgs reports whether the messages are the command line's and
// small enough to be written at once (directMax).
func directArgs(c *cli.Context) bool {
	args := c.Args().Tail()
	if len(args) == 0 || c.Bool("raw") {
		return false
	}
	size := 0
	for _, a := range args {
		size += ipc.HeaderSize + len(a)
	}
	return size <= directMax
}

// sendAll sends the command-line messages, else stdin (lines, or one
// message with --raw), and returns how many it sent.
func sendAll(c *cli.Context, conn *ipc.Conn) (int, error) {
	args := c.Args().Tail()
	if len(args) > 0 {
		if c.Bool("raw") {
			return 0, UsageErrorf("--raw sends stdin; give no MSG arguments with it")
		}
		if directArgs(c) {
			ps := make([][]byte, len(args))
			for i, a := range args {
				ps[i] = []byte(a)
			}
			return len(args), conn.WriteBatch(ps)
		}
		for _, a := range args {
			if err := conn.Schedule([]byte(a)); err != nil {
				return 0, err
			}
		}
		return len(args), conn.Flush(c.Context)
	}
	in := c.App.Reader
	if in == nil {
		in = os.Stdin
	}
	if c.Bool("raw") {
		p, err := io.ReadAll(in)
		if err != nil {
			return 0, err
		}
		return 1, conn.Write(p)
	}
	return sendLines(c.Context, bufio.NewReaderSize(in, 64<<10), conn)
}

// sendLines sends each line of r as one message. The complete lines
// already read go as one batch; a line still arriving is waited for. When
// it fails (a line too long, stdin unreadable), the lines before still go.
func sendLines(ctx context.Context, r *bufio.Reader, conn *ipc.Conn) (n int, err error) {
	defer func() {
		if err != nil {
			conn.Flush(ctx)
		}
	}()
	var batch [][]byte
	for {
		buffered, _ := r.Peek(r.Buffered())
		if end := bytes.LastIndexByte(buffered, '\n'); end >= 0 {
			batch = batch[:0]
			for lines := buffered[:end+1]; len(lines) > 0; {
				i := bytes.IndexByte(lines, '\n')
				batch = append(batch, lines[:i])
				lines = lines[i+1:]
			}
			m, err := conn.ScheduleBatch(batch) // copies the lines
			n += m
			if err != nil {
				return n, err
			}
			r.Discard(end + 1)
		} else {
			line, err := r.ReadSlice('\n')
			if errors.Is(err, bufio.ErrBufferFull) {
				return n, fmt.Errorf("%w: stdin line over %d bytes; use --raw for large messages", ipc.ErrBadData, r.Size())
			}
			if len(line) > 0 && (err == nil || err == io.EOF) {
				if err := conn.Schedule(bytes.TrimSuffix(line, []byte("\n"))); err != nil {
					return n, err
				}
				n++
			}
			if err == io.EOF {
				return n, conn.Flush(ctx)
			}
			if err != nil {
				return n, err
			}
		}
		if r.Buffered() == 0 {
			// Input is idle: let what is queued go out before blocking.
			if err := conn.Flush(ctx); err != nil {
				return n, err
			}
		}
	}
}

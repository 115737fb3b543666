package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ipcctl/ipcctl/format"
	"github.com/ipcctl/ipcctl/ipc"
	"github.com/ipcctl/ipcctl/ipc/bus"
	"github.com/ipcctl/ipcctl/ipc/bus/natsbus"
)

// serveMode is what serve does with clients besides printing their
// events: nothing in stream mode, a process per client with --exec, a
// process per message with --handler. Its methods are called from the
// event goroutine, one at a time, except stop.
type serveMode interface {
	connected(c *ipc.Conn)
	message(c *ipc.Conn, p []byte)
	disconnected(c *ipc.Conn)
	// stop ends the mode's processes on shutdown: they may finish until
	// grace ends, then they are killed, and stop returns by the time
	// final ends, whatever its output does.
	stop(grace, final context.Context)
}

// streamMode is serve's default mode: the script reading the events and
// writing the commands is the service.
type streamMode struct{}

func (streamMode) connected(*ipc.Conn)       {}
func (streamMode) message(*ipc.Conn, []byte) {}
func (streamMode) disconnected(*ipc.Conn)    {}
func (streamMode) stop(_, _ context.Context) {}

// server is one running serve command.
type server struct {
	cfg      serveConfig
	loop     *ipc.Loop
	svc      *ipc.Service
	out      *watchedWriter // stdout, under the encoder
	enc      format.Encoder
	stderr   *lockedWriter
	stdin    io.Reader
	mode     serveMode
	messages bool         // print message events
	clients  atomic.Int64 // clients connected now
	ticks    int64
	stopping atomic.Bool
	left     chan struct{} // the last client's disconnection is printed, when stopping
	bus      *bus.Bus      // with --bus
	fed      *natsbus.Fed  // with --bus --nats
	busErr   error         // the first output error of a bus event
	failed   chan error    // a fatal error of the event goroutine
}

// newServer sets up the service: it listens once newServer returns.
func newServer(cfg serveConfig, stdin io.Reader) (*server, error) {
	if stdin == nil {
		stdin = os.Stdin
	}
	out := &watchedWriter{w: cfg.g.Stdout}
	g := cfg.g
	g.Stdout = out
	s := &server{
		cfg:    cfg,
		out:    out,
		enc:    g.Encoder(),
		stderr: &lockedWriter{w: cfg.g.Stderr},
		stdin:  stdin,
		left:   make(chan struct{}, 1),
		failed: make(chan error, 1),
	}
	switch {
	case cfg.exec != "":
		s.mode = newExecMode(s)
	case cfg.handler != "":
		s.mode = newHandlerMode(s)
	default:
		s.mode = streamMode{}
		s.messages = true // they are what the script answers
	}
	s.messages = s.messages || cfg.g.Verbose
	_, stream := s.mode.(streamMode) // prints each message before the next Wait: it may borrow them
	frameMax := cfg.maxSize
	if cfg.bus {
		frameMax = bus.FrameMax(cfg.maxSize)
	}
	s.loop = ipc.NewLoop(ipc.Options{RunDir: cfg.g.RunDir, MaxSize: frameMax, BorrowPayloads: stream, NoSentEvents: cfg.bus})
	svc, err := s.listen(cfg.serviceOptions())
	if err != nil {
		s.loop.Close()
		return nil, err
	}
	s.svc = svc
	if cfg.bus {
		if err := s.newBus(); err != nil {
			s.svc.Close()
			s.loop.Close()
			return nil, err
		}
	}
	return s, nil
}

// run serves until ctx ends (SIGINT, SIGTERM) or output fails, then shuts
// down cleanly. A reader of stdout that went away (EPIPE) ends the service
// as a signal does.
func (s *server) run(ctx context.Context) error {
	s.loop.SetTimer(s.cfg.timer)
	defer s.exited()
	if err := s.emit(s.listening()); err != nil {
		s.loop.Close()
		return quietEPIPE(err)
	}
	if err := s.ready(); err != nil {
		s.loop.Close()
		return err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.events()
		if s.fed != nil {
			s.fed.Close(shutdownWait)
		}
	}()
	go s.readCommands(s.stdin)
	var err error
	select {
	case <-ctx.Done():
	case err = <-s.failed:
	}
	final, cancel := context.WithTimeout(context.Background(), shutdownWait+killWait)
	defer cancel()
	s.shutdown(final)
	if !s.finish(final, done) {
		return errStdoutStuck
	}
	return quietEPIPE(err)
}

// errStdoutStuck ends a service whose stdout is not read at shutdown.
var errStdoutStuck = errors.New("stdout is not read: the events of the shutdown are lost; exited after the grace")

// finish waits until the event goroutine is done (done) and the output is
// flushed, and reports whether that happened: a reader that does not read
// stdout cannot hold the service past final.
func (s *server) finish(final context.Context, done <-chan struct{}) bool {
	flushed := make(chan struct{})
	go func() {
		<-done
		if err := s.enc.Flush(); err != nil {
			s.fail(err)
		}
		close(flushed)
	}()
	select {
	case <-flushed:
		return true
	case <-final.Done():
	}
	return s.waitOutput(flushed)
}

// waitOutput waits for ch, unless stdout is stuck: a write to it blocked
// for killWait, or more than outputWait in all. It reports whether ch
// came. A slow machine thus delays the shutdown's last events, and a
// reader that does not read cannot hold serve.
func (s *server) waitOutput(ch <-chan struct{}) bool {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	give := time.After(outputWait)
	for {
		select {
		case <-ch:
			return true
		case <-give:
			return false
		case <-tick.C:
			if s.out.blockedFor() > killWait {
				return false
			}
		}
	}
}

// outputWait bounds how long the shutdown waits for its output once its
// grace is over, however it goes.
const outputWait = 10 * time.Second

// watchedWriter is serve's stdout, which tells how long a write to it has
// been under way: a write blocked for long means nobody reads.
type watchedWriter struct {
	w     io.Writer
	since atomic.Int64 // when the write under way began (Unix ns); 0: none
}

func (o *watchedWriter) Write(p []byte) (int, error) {
	o.since.Store(time.Now().UnixNano())
	defer o.since.Store(0)
	return o.w.Write(p)
}

// blockedFor returns how long the write under way has lasted.
func (o *watchedWriter) blockedFor() time.Duration {
	t := o.since.Load()
	if t == 0 {
		return 0
	}
	return time.Since(time.Unix(0, t))
}

// quietEPIPE turns a write to a stdout whose reader left into success:
// serve then shuts down as on SIGTERM.
func quietEPIPE(err error) error {
	if errors.Is(err, syscall.EPIPE) {
		return nil
	}
	return err
}

// events prints the loop's events and hands them to the mode until the
// loop is closed.
func (s *server) events() {
	for {
		ev, err := s.loop.Wait(context.Background())
		if err != nil {
			return
		}
		if err := s.handle(ev); err != nil {
			s.fail(err)
		}
		if s.idle() {
			if err := s.enc.Flush(); err != nil {
				s.fail(err)
			}
		}
	}
}

// idle reports whether no event waits, giving the goroutines that deliver
// events one chance to run first, so that a stream of messages is written
// in large blocks rather than one write per line.
func (s *server) idle() bool {
	if s.loop.Pending() > 0 {
		return false
	}
	runtime.Gosched()
	return s.loop.Pending() == 0
}

// handle prints one event and passes it to the mode.
func (s *server) handle(ev *ipc.Event) error {
	if s.bus != nil {
		return s.busEvent(ev)
	}
	switch ev.Type {
	case ipc.EventConnection:
		s.clients.Add(1)
		s.mode.connected(ev.Conn)
		return s.write(eventRecord(ev))
	case ipc.EventMessage:
		s.mode.message(ev.Conn, ev.Payload)
		if !s.messages {
			return nil
		}
	case ipc.EventDisconnection:
		s.left1()
		s.mode.disconnected(ev.Conn)
		if err := s.writeUnsent(ev.Conn); err != nil {
			return err
		}
	case ipc.EventSent:
		if !s.cfg.g.Verbose {
			return nil
		}
	case ipc.EventTimer:
		s.ticks++
		return s.write(timerRecord(ev, s.ticks))
	}
	return s.write(eventRecord(ev))
}

// left1 counts a client gone, and tells shutdown when it was the last.
func (s *server) left1() {
	if s.clients.Add(-1) == 0 && s.stopping.Load() {
		select {
		case s.left <- struct{}{}:
		default:
		}
	}
}

// writeUnsent prints an error event before the disconnection of a client
// closed by the shutdown with messages it did not read: they are lost.
func (s *server) writeUnsent(c *ipc.Conn) error {
	if !s.stopping.Load() {
		return nil
	}
	n := c.Unsent()
	if n == 0 {
		return nil
	}
	msg := fmt.Sprintf("the service is stopping: %d queued messages not written (the client did not read them in time)", n)
	return s.write(errorRecord(c, msg, format.Field{Key: "lost", Value: n}))
}

// write prints r, leaving it in the buffer.
func (s *server) write(r *format.Record) error {
	return s.enc.Write(r)
}

// emit prints r and flushes, for events that do not come from the loop.
func (s *server) emit(r *format.Record) error {
	if err := s.enc.Write(r); err != nil {
		return err
	}
	return s.enc.Flush()
}

// report prints an error event about client c (nil: none) from outside
// the event goroutine.
func (s *server) report(c *ipc.Conn, msg string, fields ...format.Field) {
	if err := s.emit(errorRecord(c, msg, fields...)); err != nil {
		s.fail(err)
	}
}

// fail ends the service with err (the first one only).
func (s *server) fail(err error) {
	select {
	case s.failed <- err:
	default:
	}
}

// shutdown stops accepting, lets the mode end its processes, flushes what
// was scheduled (within shutdownWait), and closes the clients. Each step
// is bounded: it returns by the time final ends, even if stdout is not
// read.
func (s *server) shutdown(final context.Context) {
	s.stopping.Store(true)
	s.stopped()
	s.svc.Close() // removes the socket: no new clients
	grace, cancel := context.WithTimeout(final, shutdownWait)
	defer cancel()
	s.mode.stop(grace, final)
	s.loop.Flush(grace)
	// Close the clients while events are still handed out, so that their
	// disconnections are printed (with what they did not read), then the
	// loop.
	for _, c := range s.loop.Conns() {
		c.Close()
	}
	if s.clients.Load() > 0 {
		select {
		case <-s.left:
		case <-final.Done():
			s.waitOutput(s.left)
		}
	}
	s.loop.Close()
}

// reportWithin is report from the shutdown: once ctx has ended, it waits
// for the output only while stdout is read.
func (s *server) reportWithin(ctx context.Context, c *ipc.Conn, msg string, fields ...format.Field) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.report(c, msg, fields...)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.waitOutput(done)
	}
}

// clientID is a client's id as events print it and commands take it.
func clientID(c *ipc.Conn) string {
	return strconv.FormatUint(c.ID(), 10)
}

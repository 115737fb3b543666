package ipc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// patience bounds every wait of these tests: generous, so that a loaded
// machine does not fail them, and never asserted as a timing.
const patience = 30 * time.Second

// newLoop returns a loop in a fresh run directory, closed with the test.
func newLoop(t testing.TB, opts Options) *Loop {
	t.Helper()
	if opts.RunDir == "" {
		opts.RunDir = runDir(t)
	}
	l := NewLoop(opts)
	t.Cleanup(func() { l.Close() })
	return l
}

// serve makes l the service name and returns it.
func serve(t testing.TB, l *Loop, name string, opts ServiceOptions) *Service {
	t.Helper()
	s, err := l.Listen(name, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// dial connects to name in l's run directory.
func dial(t testing.TB, l *Loop, name string) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	c, err := Dial(ctx, name, DialOptions{RunDir: l.RunDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// timeout returns a deadline for one wait of a test.
func timeout() time.Time { return time.Now().Add(patience) }

// next returns a copy of the loop's next event.
func next(t testing.TB, l *Loop) Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	ev, err := l.Wait(ctx)
	if err != nil {
		t.Fatalf("waiting for an event: %v", err)
	}
	return *ev
}

// expect returns the next event of type typ, skipping sent and timer
// events; any other event first fails the test.
func expect(t testing.TB, l *Loop, typ EventType) Event {
	t.Helper()
	for {
		ev := next(t, l)
		switch {
		case ev.Type == typ:
			return ev
		case ev.Type == EventSent, ev.Type == EventTimer:
			continue
		}
		t.Fatalf("got event %v (err %v), want %v", ev.Type, ev.Err, typ)
	}
}

// request sends p on c and returns the reply.
func request(t testing.TB, c *Conn, p []byte) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	r, err := c.Request(ctx, p)
	if err != nil {
		t.Fatalf("request %q: %v", p, err)
	}
	return r
}

// echo answers every message on l with the same payload until ctx ends,
// from a goroutine of its own, and returns when it has stopped.
func echo(ctx context.Context, l *Loop) (wait func()) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			ev, err := l.Wait(ctx)
			if err != nil {
				return
			}
			if ev.Type == EventMessage {
				ev.Conn.Write(ev.Payload)
			}
		}
	}()
	return wg.Wait
}

func TestTimerTicksUnderLoad(t *testing.T) {
	l := newLoop(t, Options{})
	serve(t, l, "flood", ServiceOptions{})
	c := dial(t, l, "flood")
	expect(t, l, EventConnection)
	stop := make(chan struct{})
	flooding := make(chan struct{})
	go func() {
		defer close(flooding)
		msg := AppendFrame(nil, []byte("flood"))
		batch := make([]byte, 0, 1000*len(msg))
		for range 1000 {
			batch = append(batch, msg...)
		}
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := c.NetConn().Write(batch); err != nil {
				return
			}
		}
	}()
	l.SetTimer(time.Millisecond)
	// Ticks must keep coming while the loop always has messages to hand
	// out: count ticks with messages on both sides of each.
	ticks, sinceTick := 0, 0
	for ticks < 20 {
		ev := next(t, l)
		switch ev.Type {
		case EventMessage:
			sinceTick++
		case EventTimer:
			if sinceTick > 0 {
				ticks++
			}
			sinceTick = 0
		default:
			t.Fatalf("unexpected %v event: %v", ev.Type, ev.Err)
		}
	}
	close(stop)
	c.Close() // unblocks the writer
	<-flooding
}

func TestTimerStops(t *testing.T) {
	l := newLoop(t, Options{})
	l.SetTimer(time.Millisecond)
	for range 3 {
		if ev := next(t, l); ev.Type != EventTimer || ev.Time.IsZero() {
			t.Fatalf("got %v, want a timer event with a time", ev.Type)
		}
	}
	l.SetTimer(0)
	// Drain at most one tick that was already due.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	for {
		ev, err := l.Wait(ctx)
		if err != nil {
			break
		}
		if ev.Type == EventTimer {
			continue
		}
	}
}

func TestWaitAfterClose(t *testing.T) {
	l := NewLoop(Options{RunDir: runDir(t)})
	l.Close()
	if _, err := l.Wait(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("got %v, want ErrClosed", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestWaitContext(t *testing.T) {
	l := newLoop(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

// TestLoopAddClient puts a client connection under a loop of its own.
func TestLoopAddClient(t *testing.T) {
	sl := newLoop(t, Options{})
	serve(t, sl, "svc", ServiceOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer echo(ctx, sl)()
	defer cancel()

	cl := newLoop(t, Options{RunDir: sl.RunDir()})
	c := dial(t, sl, "svc")
	cl.Add(c)
	if cl.Conn(c.ID()) != c || len(cl.Conns()) != 1 {
		t.Fatal("the added connection is not listed")
	}
	for i := range 10 {
		if err := c.Schedule(fmt.Appendf(nil, "m%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	sent, got := 0, 0
	for sent < 10 || got < 10 {
		ev := next(t, cl)
		switch ev.Type {
		case EventSent:
			if want := fmt.Sprintf("m%d", sent); string(ev.Payload) != want {
				t.Fatalf("sent event %d: %q, want %q", sent, ev.Payload, want)
			}
			sent++
		case EventMessage:
			if want := fmt.Sprintf("m%d", got); string(ev.Payload) != want {
				t.Fatalf("reply %d: %q, want %q", got, ev.Payload, want)
			}
			got++
		default:
			t.Fatalf("unexpected %v: %v", ev.Type, ev.Err)
		}
	}
	if n := cl.Broadcast(nil, []byte("all")); n != 1 {
		t.Fatalf("Broadcast reached %d, want 1", n)
	}
	if ev := expect(t, cl, EventMessage); string(ev.Payload) != "all" {
		t.Fatalf("got %q", ev.Payload)
	}
	c.Close()
	if ev := expect(t, cl, EventDisconnection); ev.Conn != c || ev.Err != nil {
		t.Fatalf("disconnection of %v with %v", ev.Conn, ev.Err)
	}
	if cl.Conn(c.ID()) != nil {
		t.Fatal("a closed connection is still listed")
	}
}

func TestLoopCloseEndsEverything(t *testing.T) {
	l := NewLoop(Options{RunDir: runDir(t)})
	s := serve(t, l, "svc", ServiceOptions{})
	c := dial(t, l, "svc")
	expect(t, l, EventConnection)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Path()); !os.IsNotExist(err) {
		t.Fatalf("socket left behind: %v", err)
	}
	c.NetConn().SetReadDeadline(time.Now().Add(patience))
	if _, err := c.ReadMessage(); err == nil {
		t.Fatal("the client still reads after the loop closed")
	}
}

// TestLoopBorrowPayloads: lent payloads are right while they are lent,
// across reads of many frames and a frame larger than a read.
func TestLoopBorrowPayloads(t *testing.T) {
	l := newLoop(t, Options{BorrowPayloads: true})
	serve(t, l, "svc", ServiceOptions{})
	c := dial(t, l, "svc")
	expect(t, l, EventConnection)
	big := make([]byte, 300<<10)
	for i := range big {
		big[i] = byte(i)
	}
	var stream []byte
	const n = 20000
	for i := range n {
		stream = AppendFrame(stream, fmt.Appendf(nil, "m%d", i))
	}
	stream = AppendFrame(stream, big)
	go c.NetConn().Write(stream)
	for i := range n {
		ev := expect(t, l, EventMessage)
		if want := fmt.Sprintf("m%d", i); string(ev.Payload) != want {
			t.Fatalf("message %d: %q, want %q", i, ev.Payload, want)
		}
	}
	if ev := expect(t, l, EventMessage); !bytes.Equal(ev.Payload, big) {
		t.Fatal("the large message came wrong")
	}
}

// TestLoopAddBuffered: frames a Conn read before it came under a loop
// come first, then the rest, in order.
func TestLoopAddBuffered(t *testing.T) {
	a, b := socketPair(t)
	c := NewConn(a, 0)
	var frames []byte
	for i := range 3 {
		frames = AppendFrame(frames, fmt.Appendf(nil, "f%d", i))
	}
	if _, err := b.Write(frames); err != nil {
		t.Fatal(err)
	}
	if p, err := c.ReadMessage(); err != nil || string(p) != "f0" {
		t.Fatalf("read %q, %v", p, err)
	}
	l := newLoop(t, Options{})
	l.Add(c)
	if err := WriteFrame(b, []byte("f3")); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		ev := expect(t, l, EventMessage)
		if string(ev.Payload) != fmt.Sprintf("f%d", i) {
			t.Fatalf("got %q, want f%d", ev.Payload, i)
		}
		if ev.Time.IsZero() {
			t.Fatalf("message f%d has no time", i)
		}
	}
	b.Close()
	if ev := expect(t, l, EventDisconnection); ev.Conn != c || ev.Err != nil {
		t.Fatalf("disconnection of %v: %v", ev.Conn, ev.Err)
	}
}

// TestLoopConnWithoutFd: a stream with no file descriptor (here a pipe
// in memory, as TLS would be) is read by a goroutine of its own.
func TestLoopConnWithoutFd(t *testing.T) {
	a, b := net.Pipe()
	c := NewConn(a, 0)
	l := newLoop(t, Options{})
	l.Add(c)
	go func() {
		for i := range 3 {
			WriteFrame(b, fmt.Appendf(nil, "p%d", i))
		}
		b.Close()
	}()
	for i := range 3 {
		if ev := expect(t, l, EventMessage); string(ev.Payload) != fmt.Sprintf("p%d", i) {
			t.Fatalf("got %q, want p%d", ev.Payload, i)
		}
	}
	if ev := expect(t, l, EventDisconnection); ev.Conn != c {
		t.Fatal("not its disconnection")
	}
}

// TestLoopCloseWakesWait: Close ends a Wait that sleeps.
func TestLoopCloseWakesWait(t *testing.T) {
	l := NewLoop(Options{RunDir: runDir(t)})
	done := make(chan error, 1)
	go func() {
		_, err := l.Wait(context.Background())
		done <- err
	}()
	time.Sleep(10 * time.Millisecond) // let it sleep; either way it must end
	l.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("got %v, want ErrClosed", err)
		}
	case <-time.After(patience):
		t.Fatal("Close did not wake Wait")
	}
}

// TestPendingPartialFrame: a connection that holds only part of a frame
// makes no event, so Pending says none waits; the rest makes one.
func TestPendingPartialFrame(t *testing.T) {
	l := newLoop(t, Options{})
	serve(t, l, "svc", ServiceOptions{})
	c := dial(t, l, "svc")
	expect(t, l, EventConnection)
	frame := AppendFrame(nil, []byte("hello"))
	if _, err := c.NetConn().Write(frame[:6]); err != nil {
		t.Fatal(err)
	}
	if n := l.Pending(); n != 0 {
		t.Fatalf("Pending with part of a frame read: %d, want 0", n)
	}
	if _, err := c.NetConn().Write(frame[6:]); err != nil {
		t.Fatal(err)
	}
	if n := l.Pending(); n != 1 {
		t.Fatalf("Pending with the whole frame: %d, want 1", n)
	}
	if ev := expect(t, l, EventMessage); string(ev.Payload) != "hello" {
		t.Fatalf("got %q", ev.Payload)
	}
	if n := l.Pending(); n != 0 {
		t.Fatalf("Pending once the message is handed out: %d, want 0", n)
	}
}

// TestPendingKeepsBorrowedPayload: with BorrowPayloads, the payload
// handed out last stays intact while Pending reads the next message.
func TestPendingKeepsBorrowedPayload(t *testing.T) {
	l := newLoop(t, Options{BorrowPayloads: true})
	serve(t, l, "svc", ServiceOptions{})
	c := dial(t, l, "svc")
	expect(t, l, EventConnection)
	c.Write([]byte("first"))
	ev := expect(t, l, EventMessage)
	c.Write([]byte("second"))
	if n := l.Pending(); n != 1 {
		t.Fatalf("Pending: %d, want 1", n)
	}
	if string(ev.Payload) != "first" {
		t.Fatalf("the lent payload became %q while Pending read the next", ev.Payload)
	}
	if ev := expect(t, l, EventMessage); string(ev.Payload) != "second" {
		t.Fatalf("got %q", ev.Payload)
	}
}

// TestPendingCountsOnlyEventsToCome: a connection closed by the caller
// after Wait found its end of stream leaves a notice that makes no
// event; Pending must not count it, or a caller that flushes its output
// when nothing is pending would sleep with it unflushed.
func TestPendingCountsOnlyEventsToCome(t *testing.T) {
	l := newLoop(t, Options{})
	serve(t, l, "svc", ServiceOptions{})
	c := dial(t, l, "svc")
	sc := expect(t, l, EventConnection).Conn
	c.Close()
	if n := l.Pending(); n != 1 {
		t.Fatalf("Pending with the end of stream there: %d, want 1", n)
	}
	sc.Close() // after Pending read the end: the loop learns of it twice
	if ev := expect(t, l, EventDisconnection); ev.Conn != sc {
		t.Fatalf("disconnection of %v", ev.Conn)
	}
	if n := l.Pending(); n != 0 {
		t.Fatalf("Pending once the disconnection is handed out: %d, want 0", n)
	}
}

// TestLoopFlushPassesFailedConn: a connection whose write failed does
// not keep Flush from the others.
func TestLoopFlushPassesFailedConn(t *testing.T) {
	l := newLoop(t, Options{})
	serve(t, l, "svc", ServiceOptions{})
	gone := dial(t, l, "svc")
	first := expect(t, l, EventConnection).Conn
	stays := dial(t, l, "svc")
	second := expect(t, l, EventConnection).Conn
	gone.Close()
	for i := 0; i < 100 && first.Err() == nil; i++ {
		first.Schedule([]byte("to nobody"))
		time.Sleep(time.Millisecond)
	}
	if first.Err() == nil {
		t.Fatal("writes to a closed peer did not fail")
	}
	second.Schedule([]byte("kept"))
	if err := l.Flush(context.Background()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	stays.NetConn().SetReadDeadline(timeout())
	if p, err := stays.ReadMessage(); err != nil || string(p) != "kept" {
		t.Fatalf("the other client got %q, %v", p, err)
	}
}

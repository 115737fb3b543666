package ipc

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"
)

// header returns a length prefix announcing n bytes.
func header(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }

// expectClosedFor waits for an error event wrapping want, then for the
// disconnection of its connection.
func expectClosedFor(t *testing.T, l *Loop, want error) {
	t.Helper()
	ev := expect(t, l, EventError)
	if !errors.Is(ev.Err, want) || ev.Conn == nil {
		t.Fatalf("error event %v (conn %v), want %v", ev.Err, ev.Conn, want)
	}
	if d := expect(t, l, EventDisconnection); d.Conn != ev.Conn {
		t.Fatalf("disconnection of %v, want %v", d.Conn.ID(), ev.Conn.ID())
	}
}

func TestFrameTimeoutClosesSlowSender(t *testing.T) {
	l := newLoop(t, Options{})
	serve(t, l, "svc", ServiceOptions{FrameTimeout: 300 * time.Millisecond})
	slow := dial(t, l, "svc")
	expect(t, l, EventConnection)
	quick := dial(t, l, "svc")
	expect(t, l, EventConnection)

	start := time.Now()
	slow.NetConn().Write(append(header(10), "abc"...))
	expectClosedFor(t, l, ErrTimeout)
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Fatalf("closed after %v, before the deadline", waited)
	}
	if _, err := slow.ReadMessage(); err == nil {
		t.Fatal("the slow client was not closed")
	}
	if err := quick.Write([]byte("still here")); err != nil {
		t.Fatal(err)
	}
	if ev := expect(t, l, EventMessage); string(ev.Payload) != "still here" {
		t.Fatalf("message %q", ev.Payload)
	}
}

func TestFrameTimeoutSparesFrameInTime(t *testing.T) {
	l := newLoop(t, Options{})
	serve(t, l, "svc", ServiceOptions{FrameTimeout: 500 * time.Millisecond})
	c := dial(t, l, "svc")
	expect(t, l, EventConnection)
	// Each frame is finished in time; the connection lasts longer than
	// the deadline, idle in between.
	for i := 0; i < 2; i++ {
		c.NetConn().Write(append(header(2), 'x'))
		time.Sleep(100 * time.Millisecond)
		c.NetConn().Write([]byte{'y'})
		if ev := expect(t, l, EventMessage); string(ev.Payload) != "xy" {
			t.Fatalf("message %q", ev.Payload)
		}
		time.Sleep(700 * time.Millisecond)
	}
}

// A loop that is behind (its caller busy) leaves a frame's bytes in the
// socket: they are not the client's delay.
func TestFrameTimeoutSparesUnreadBytes(t *testing.T) {
	l := newLoop(t, Options{})
	serve(t, l, "svc", ServiceOptions{FrameTimeout: 200 * time.Millisecond})
	c := dial(t, l, "svc")
	expect(t, l, EventConnection)
	c.NetConn().Write(append(header(100000), make([]byte, 1000)...))
	time.Sleep(50 * time.Millisecond)
	go c.NetConn().Write(make([]byte, 99000))
	time.Sleep(600 * time.Millisecond) // Wait is not called meanwhile
	if ev := expect(t, l, EventMessage); len(ev.Payload) != 100000 {
		t.Fatalf("message of %d bytes", len(ev.Payload))
	}
}

func TestFrameTimeoutOff(t *testing.T) {
	l := newLoop(t, Options{})
	serve(t, l, "svc", ServiceOptions{FrameTimeout: -1, IdleTimeout: 0})
	c := dial(t, l, "svc")
	expect(t, l, EventConnection)
	c.NetConn().Write(header(10))
	time.Sleep(300 * time.Millisecond)
	c.NetConn().Write(make([]byte, 10))
	if ev := expect(t, l, EventMessage); len(ev.Payload) != 10 {
		t.Fatalf("message of %d bytes", len(ev.Payload))
	}
}

func TestIdleTimeout(t *testing.T) {
	l := newLoop(t, Options{})
	serve(t, l, "svc", ServiceOptions{IdleTimeout: 400 * time.Millisecond})
	c := dial(t, l, "svc")
	ev := expect(t, l, EventConnection)
	// Traffic either way keeps it: messages in, then replies out.
	for i := 0; i < 4; i++ {
		c.Write([]byte("ping"))
		expect(t, l, EventMessage)
		time.Sleep(200 * time.Millisecond)
	}
	for i := 0; i < 4; i++ {
		ev.Conn.Write([]byte("news"))
		if _, err := c.ReadMessage(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	start := time.Now()
	expectClosedFor(t, l, ErrTimeout)
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Fatalf("closed %v after the last exchange", waited)
	}
	if _, err := c.ReadMessage(); err != io.EOF {
		t.Fatalf("client read %v, want end of stream", err)
	}
}

func TestMaxBufferedClosesTheClientPastIt(t *testing.T) {
	l := newLoop(t, Options{MaxSize: 1 << 20})
	s := serve(t, l, "svc", ServiceOptions{MaxBuffered: 3 * (HeaderSize + 1<<20 - 1)})
	var held []*Conn
	for i := 0; i < 3; i++ { // three frames of 1 MiB - 1 fit, not four
		c := dial(t, l, "svc")
		expect(t, l, EventConnection)
		c.NetConn().Write(append(header(1<<20-1), 'x'))
		held = append(held, c)
		quiet(t, l)
	}
	if got, want := s.Buffered(), int64(3*(HeaderSize+1<<20-1)); got != want {
		t.Fatalf("%d bytes buffered, want %d", got, want)
	}
	over := dial(t, l, "svc")
	expect(t, l, EventConnection)
	over.NetConn().Write(append(header(1<<20-1), 'x'))
	expectClosedFor(t, l, ErrOverloaded)
	if got := s.Buffered(); got > 3*(HeaderSize+1<<20-1) {
		t.Fatalf("%d bytes buffered, over the bound", got)
	}

	// Frames that complete give their room back; small ones pass.
	go held[0].NetConn().Write(make([]byte, 1<<20-2)) // read as it is written
	if ev := expect(t, l, EventMessage); len(ev.Payload) != 1<<20-1 {
		t.Fatalf("message of %d bytes", len(ev.Payload))
	}
	held[1].Close()
	expectClosedFor(t, l, ErrBadData) // closed mid-frame
	if got, want := s.Buffered(), int64(HeaderSize+1<<20-1); got != want {
		t.Fatalf("%d bytes buffered, want %d", got, want)
	}
	late := dial(t, l, "svc")
	expect(t, l, EventConnection)
	go late.NetConn().Write(append(header(1<<20-1), make([]byte, 1<<20-1)...))
	if ev := expect(t, l, EventMessage); len(ev.Payload) != 1<<20-1 {
		t.Fatalf("message of %d bytes", len(ev.Payload))
	}
}

func TestMaxBufferedTakesOneFrameAlone(t *testing.T) {
	l := newLoop(t, Options{MaxSize: 1 << 20})
	serve(t, l, "svc", ServiceOptions{MaxBuffered: 1000})
	c := dial(t, l, "svc")
	expect(t, l, EventConnection)
	go c.NetConn().Write(append(header(5000), make([]byte, 5000)...))
	if ev := expect(t, l, EventMessage); len(ev.Payload) != 5000 {
		t.Fatalf("message of %d bytes", len(ev.Payload))
	}
}

func TestDefaultMaxBuffered(t *testing.T) {
	if b := newBudget(0, DefaultMaxSize); b.max != DefaultMaxBuffered {
		t.Fatalf("default bound %d, want %d", b.max, DefaultMaxBuffered)
	}
	if b := newBudget(0, 64<<20); b.max != 8*(64<<20+HeaderSize) {
		t.Fatalf("bound %d for 64 MiB frames, want 8 of them", b.max)
	}
	if b := newBudget(-1, DefaultMaxSize); b != nil {
		t.Fatal("a negative bound bounds something")
	}
}

// quiet lets the loop read what is there, and fails if that makes an
// event.
func quiet(t *testing.T, l *Loop) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if ev, err := l.Wait(ctx); err == nil {
		t.Fatalf("unexpected %v event (err %v)", ev.Type, ev.Err)
	}
}

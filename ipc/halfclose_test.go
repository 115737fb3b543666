package ipc

import (
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHalfClosedPeerGetsWhatWasScheduled: a client that sends a request
// and half-closes at once still reads the reply that the service
// scheduled on its message, and then the end of stream: the end the
// loop read is handed out once the queue is written.
func TestHalfClosedPeerGetsWhatWasScheduled(t *testing.T) {
	l := newLoop(t, Options{})
	serve(t, l, "svc", ServiceOptions{})
	go func() {
		for {
			ev, err := l.Wait(t.Context())
			if err != nil {
				return
			}
			if ev.Type == EventMessage {
				ev.Conn.Schedule(append([]byte("re: "), ev.Payload...))
			}
		}
	}()
	for i := range 50 {
		nc, err := net.Dial("unix", filepath.Join(l.RunDir(), "svc"))
		if err != nil {
			t.Fatal(err)
		}
		nc.SetDeadline(timeout())
		if err := WriteFrame(nc, []byte("hi")); err != nil {
			t.Fatal(err)
		}
		nc.(*net.UnixConn).CloseWrite()
		fr := NewFrameReader(nc, 64)
		p, err := fr.ReadFrame()
		if err != nil || string(p) != "re: hi" {
			t.Fatalf("connection %d: got %q, %v; want the reply", i, p, err)
		}
		if _, err := fr.ReadFrame(); err != io.EOF {
			t.Fatalf("connection %d: after the reply: %v, want end of stream", i, err)
		}
		nc.Close()
	}
}

// TestHalfClosedPeerThatDoesNotReadIsEnded: a peer that half-closes and
// never reads what was scheduled for it is ended once the linger bound
// passes, not kept for ever.
func TestHalfClosedPeerThatDoesNotReadIsEnded(t *testing.T) {
	l := newLoop(t, Options{Linger: 100 * time.Millisecond, QueueBytes: 64 << 20})
	serve(t, l, "svc", ServiceOptions{})
	nc, err := net.Dial("unix", filepath.Join(l.RunDir(), "svc"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := WriteFrame(nc, []byte("flood me")); err != nil {
		t.Fatal(err)
	}
	nc.(*net.UnixConn).CloseWrite()
	expect(t, l, EventConnection)
	ev := expect(t, l, EventMessage)
	big := make([]byte, 1<<20)
	for range 16 { // more than the socket buffers hold
		if err := ev.Conn.Schedule(big); err != nil {
			t.Fatal(err)
		}
	}
	expect(t, l, EventDisconnection)
}

// TestClientResetIsNamed: a client that closes with bytes of the
// service's unread resets the connection; the service's error says that
// the client did, not the service.
func TestClientResetIsNamed(t *testing.T) {
	l := newLoop(t, Options{})
	serve(t, l, "svc", ServiceOptions{})
	nc, err := net.Dial("unix", filepath.Join(l.RunDir(), "svc"))
	if err != nil {
		t.Fatal(err)
	}
	sc := expect(t, l, EventConnection).Conn
	if err := sc.Schedule([]byte("unread")); err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(timeout())
	if _, err := nc.Read(make([]byte, 1)); err != nil { // the rest stays unread
		t.Fatal(err)
	}
	nc.Close()
	ev := expect(t, l, EventError)
	if !errors.Is(ev.Err, ErrPeerClosed) || !strings.Contains(ev.Err.Error(), "the client closed the connection") {
		t.Fatalf("got %v, want the client named as the one that closed", ev.Err)
	}
	expect(t, l, EventDisconnection)
}

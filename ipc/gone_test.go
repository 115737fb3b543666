package ipc

import (
	"errors"
	"net"
	"path/filepath"
	"testing"
)

// TestMessagesOfAClientGoneBeforeAWrite: a client that sends and leaves
// before the service writes to it still has its messages handed out,
// before the error of the write and the disconnection; Schedule refuses
// from the failed write on.
func TestMessagesOfAClientGoneBeforeAWrite(t *testing.T) {
	l := newLoop(t, Options{})
	serve(t, l, "svc", ServiceOptions{})
	nc, err := net.Dial("unix", filepath.Join(l.RunDir(), "svc"))
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteFrame(nc, []byte("last words")); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	sc := expect(t, l, EventConnection).Conn
	if err := sc.Schedule([]byte("too late")); err != nil {
		t.Fatal(err)
	}
	if err := sc.Flush(t.Context()); !errors.Is(err, ErrPeerClosed) {
		t.Fatalf("Flush: %v, want ErrPeerClosed", err)
	}
	if err := sc.Schedule([]byte("later")); !errors.Is(err, ErrPeerClosed) {
		t.Fatalf("Schedule after the failed write: %v, want the broken pipe", err)
	}
	ev := expect(t, l, EventMessage)
	if string(ev.Payload) != "last words" {
		t.Fatalf("got %q", ev.Payload)
	}
	if ev := expect(t, l, EventError); !errors.Is(ev.Err, ErrPeerClosed) {
		t.Fatalf("got error %v, want the broken pipe", ev.Err)
	}
	expect(t, l, EventDisconnection)
}

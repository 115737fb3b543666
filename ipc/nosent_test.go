package ipc

import (
	"errors"
	"testing"
)

// TestNoSentEvents: with NoSentEvents, scheduled messages arrive and
// yield no EventSent; a connection that refused a message under
// OverflowDrop yields one EventSent without a payload once its queue is
// written out.
func TestNoSentEvents(t *testing.T) {
	l := newLoop(t, Options{NoSentEvents: true, QueueBytes: 4096, Overflow: OverflowDrop})
	serve(t, l, "svc", ServiceOptions{})
	c := dial(t, l, "svc")
	sc := expect(t, l, EventConnection).Conn
	if err := sc.Schedule([]byte("one")); err != nil {
		t.Fatal(err)
	}
	if p, err := c.ReadMessage(); err != nil || string(p) != "one" {
		t.Fatalf("got %q, %v", p, err)
	}
	// The client's message is the next event: no sent event came first.
	if err := c.WriteMessage([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, l); ev.Type != EventMessage || string(ev.Payload) != "ping" {
		t.Fatalf("got %v %q, want the message and no sent event", ev.Type, ev.Payload)
	}
	// The client stops reading: the queue fills and refuses.
	queued := 0
	for {
		err := sc.Schedule(make([]byte, 1024))
		if errors.Is(err, ErrQueueFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		queued++
	}
	for i := 0; i < queued; i++ {
		if _, err := c.ReadMessage(); err != nil {
			t.Fatal(err)
		}
	}
	ev := next(t, l)
	if ev.Type != EventSent || ev.Conn != sc || ev.Payload != nil {
		t.Fatalf("got %v %q, want one sent event without a payload", ev.Type, ev.Payload)
	}
	if err := sc.Schedule([]byte("room")); err != nil {
		t.Fatalf("after the room event: %v", err)
	}
}

package ipc

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestPauseReading: a paused connection yields no message, even of what
// was read already, until it is resumed from another goroutine; then
// every message comes, in order.
func TestPauseReading(t *testing.T) {
	l := newLoop(t, Options{})
	serve(t, l, "svc", ServiceOptions{})
	c := dial(t, l, "svc")
	sc := expect(t, l, EventConnection).Conn
	for i := range 100 {
		if err := c.Write([]byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if ev := expect(t, l, EventMessage); string(ev.Payload) != "0" {
		t.Fatalf("got %q", ev.Payload)
	}
	sc.PauseReading()
	sc.PauseReading() // twice is once
	for i := 100; i < 200; i++ {
		if err := c.Write([]byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	if ev, err := l.Wait(ctx); err == nil {
		t.Fatalf("paused: got event %v %q", ev.Type, ev.Payload)
	}
	cancel()
	if n := l.Pending(); n != 0 {
		t.Fatalf("Pending of a paused connection: %d", n)
	}
	go sc.ResumeReading()
	for i := 1; i < 200; i++ {
		if ev := expect(t, l, EventMessage); string(ev.Payload) != fmt.Sprint(i) {
			t.Fatalf("message %d came as %q", i, ev.Payload)
		}
	}
	// A paused connection's end waits too, and comes once resumed.
	sc.PauseReading()
	c.Close()
	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	if ev, err := l.Wait(ctx); err == nil {
		t.Fatalf("paused: got event %v", ev.Type)
	}
	cancel()
	sc.ResumeReading()
	expect(t, l, EventDisconnection)
}

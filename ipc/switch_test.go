package ipc

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// connPair returns the two ends of a socket pair as Conns.
func connPair(t *testing.T) (*Conn, *Conn) {
	a, b := socketPair(t)
	return NewConn(a, 0), NewConn(b, 0)
}

func TestAddSwitch(t *testing.T) {
	l := newLoop(t, Options{SwitchEvents: true})
	outerA, innerA := connPair(t)
	outerB, innerB := connPair(t)
	sw := l.AddSwitch(innerA, innerB)
	if a, b := sw.Ends(); a != innerA || b != innerB {
		t.Fatal("Ends")
	}
	outerA.Write([]byte("a to b"))
	rx := expect(t, l, EventSwitchRx)
	tx := expect(t, l, EventSwitchTx)
	if rx.Switch != sw || rx.Conn != innerA || string(rx.Payload) != "a to b" {
		t.Fatalf("rx: switch %v conn %v %q", rx.Switch, rx.Conn, rx.Payload)
	}
	if tx.Switch != sw || tx.Conn != innerB || string(tx.Payload) != "a to b" {
		t.Fatalf("tx: conn %v %q", tx.Conn, tx.Payload)
	}
	outerB.NetConn().SetReadDeadline(timeout())
	if p, err := outerB.ReadMessage(); err != nil || string(p) != "a to b" {
		t.Fatalf("b got %q, %v", p, err)
	}
	outerB.Write([]byte("b to a"))
	if ev := expect(t, l, EventSwitchRx); ev.Conn != innerB {
		t.Fatal("rx from the wrong end")
	}
	expect(t, l, EventSwitchTx)
	outerA.NetConn().SetReadDeadline(timeout())
	if p, err := outerA.ReadMessage(); err != nil || string(p) != "b to a" {
		t.Fatalf("a got %q, %v", p, err)
	}
	outerA.Close()
	ev := expect(t, l, EventDisconnection)
	if ev.Switch != sw || ev.Err != nil || sw.Err() != nil {
		t.Fatalf("end of switch: %v %v", ev.Err, sw.Err())
	}
	// Both ends are closed: B sees the end of the stream.
	if _, err := outerB.ReadMessage(); err == nil {
		t.Fatal("B still open")
	}
}

func TestAddSwitchQuiet(t *testing.T) {
	l := newLoop(t, Options{})
	outerA, innerA := connPair(t)
	outerB, innerB := connPair(t)
	sw := l.AddSwitch(innerA, innerB)
	for i := range 100 {
		outerA.Schedule(fmt.Appendf(nil, "%d", i))
	}
	outerB.NetConn().SetReadDeadline(timeout())
	for i := range 100 {
		if p, err := outerB.ReadMessage(); err != nil || string(p) != fmt.Sprint(i) {
			t.Fatalf("got %q, %v", p, err)
		}
	}
	// A frame over the limit ends the switch with that error, and no
	// message event came before it.
	outerB.NetConn().Write([]byte{0xff, 0xff, 0xff, 0xff})
	ev := next(t, l)
	if ev.Type != EventDisconnection || ev.Switch != sw || !errors.Is(ev.Err, ErrTooLarge) {
		t.Fatalf("got %v with %v, want a disconnection with ErrTooLarge", ev.Type, ev.Err)
	}
}

func TestRelay(t *testing.T) {
	outerA, innerA := connPair(t)
	outerB, innerB := connPair(t)
	var seen []string
	done := make(chan error, 1)
	go func() {
		done <- Relay(context.Background(), innerA, innerB, func(from MessageConn, p []byte) {
			side := "a"
			if from == innerB {
				side = "b"
			}
			seen = append(seen, side+":"+string(p))
		})
	}()
	outerA.Write([]byte("ping"))
	outerB.NetConn().SetReadDeadline(timeout())
	if p, err := outerB.ReadMessage(); err != nil || string(p) != "ping" {
		t.Fatalf("got %q, %v", p, err)
	}
	outerB.Write([]byte("pong"))
	outerA.NetConn().SetReadDeadline(timeout())
	if p, err := outerA.ReadMessage(); err != nil || string(p) != "pong" {
		t.Fatalf("got %q, %v", p, err)
	}
	outerB.Close()
	if err := <-done; err != nil {
		t.Fatalf("clean end: %v", err)
	}
	if fmt.Sprint(seen) != "[a:ping b:pong]" {
		t.Fatalf("onRx saw %v", seen)
	}
}

func TestRelayCancelled(t *testing.T) {
	_, innerA := connPair(t)
	_, innerB := connPair(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Relay(ctx, innerA, innerB, nil) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

// TestSwitchToService relays a connection to a service, as ipcctl switch
// does for each client of its other endpoint.
func TestSwitchToService(t *testing.T) {
	back := newLoop(t, Options{})
	serve(t, back, "back", ServiceOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer echo(ctx, back)()
	defer cancel()

	relay := newLoop(t, Options{RunDir: back.RunDir()})
	client, inner := connPair(t)
	relay.AddSwitch(inner, dial(t, relay, "back"))
	for _, p := range []string{"one", "", "three"} {
		if r := request(t, client, []byte(p)); string(r) != p {
			t.Fatalf("got %q, want %q", r, p)
		}
	}
	client.Close()
	if ev := expect(t, relay, EventDisconnection); ev.Err != nil {
		t.Fatal(ev.Err)
	}
}

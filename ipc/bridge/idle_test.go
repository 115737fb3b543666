package bridge

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
)

// TestBridgeIdleTimeout closes a pair whose client sends a message byte by
// byte, and one through which nothing passes any more, but not a pair in
// use.
func TestBridgeIdleTimeout(t *testing.T) {
	dir := echoService(t, "pong")
	const idle = 400 * time.Millisecond
	addr, events := startBridge(t, "tcp://127.0.0.1:0", "pong", EndpointOptions{RunDir: dir},
		func(b *Bridge) { b.IdleTimeout = idle })

	start := time.Now() // the pair's clock starts after this
	slow, err := net.Dial("tcp", hostport(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	pair := waitEvent(t, events, ipc.EventConnection).Pair
	slow.Write([]byte{0, 0, 0, 100})
	go func() {
		for i := 0; i < 100; i++ {
			time.Sleep(idle / 8)
			if _, err := slow.Write([]byte{'x'}); err != nil {
				return
			}
		}
	}()
	expectIdle(t, events, pair, start, idle)

	e, _ := ParseEndpoint(addr)
	busy, err := e.Dial(testContext(t), EndpointOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	start = time.Now()
	pair = waitEvent(t, events, ipc.EventConnection).Pair
	for i := 0; i < 6; i++ { // longer than idle in all, never idle that long
		// The bridge's last activity is its relaying of the reply, after
		// the round trip began and before the reply is read here.
		start = time.Now()
		roundTrip(t, busy, []byte("tick"))
		time.Sleep(idle / 4)
	}
	expectIdle(t, events, pair, start, idle)
}

// expectIdle waits for pair's end by its idle timeout, not before idle
// after since.
func expectIdle(t *testing.T, events <-chan BridgeEvent, pair uint64, since time.Time, idle time.Duration) {
	t.Helper()
	ev := waitEvent(t, events, ipc.EventError)
	if ev.Pair != pair || !errors.Is(ev.Err, ipc.ErrTimeout) {
		t.Fatalf("error event of pair %d: %v; want pair %d timed out", ev.Pair, ev.Err, pair)
	}
	if took := time.Since(since); took < idle {
		t.Fatalf("pair closed after %v idle, before %v", took, idle)
	}
	waitEvent(t, events, ipc.EventDisconnection)
}

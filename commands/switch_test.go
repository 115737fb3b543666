package commands

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// TestStoppingSentBeforeReturn: once the deferred function of
// stoppingOnDone returns, the word to the service manager has been sent,
// however long sending it takes, so a switch stopped by a signal never
// exits with it still on its way.
func TestStoppingSentBeforeReturn(t *testing.T) {
	for i := 0; i < 20; i++ {
		var sent atomic.Bool
		ctx, cancel := context.WithCancel(context.Background())
		done := stoppingOnDone(ctx, func() {
			time.Sleep(time.Millisecond) // a datagram on its way
			sent.Store(true)
		})
		cancel()
		done()
		if !sent.Load() {
			t.Fatalf("run %d: the switch's end returned before STOPPING=1 was sent", i)
		}
	}
	// A switch that ends before ctx does sends nothing.
	var sent atomic.Bool
	ctx, cancel := context.WithCancel(context.Background())
	stoppingOnDone(ctx, func() { sent.Store(true) })()
	cancel()
	time.Sleep(10 * time.Millisecond)
	if sent.Load() {
		t.Fatal("STOPPING=1 sent by a switch that ended on its own")
	}
}

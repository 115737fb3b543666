package bus

import (
	"encoding/binary"
	"testing"
)

// TestSlowSubscriberBoundedAndTold publishes far more than a subscriber
// that does not read can be queued: the one that keeps up gets everything,
// the slow one gets what fitted, in order, then a dropped notice that
// counts the rest exactly.
func TestSlowSubscriberBoundedAndTold(t *testing.T) {
	const (
		queue = 64 << 10
		size  = 1 << 10
		n     = 8000 // 8 MiB: far more than the queue and the socket's buffers
	)
	tb := startBus(t, Options{QueueBytes: queue})
	slow := tb.sub("feed")
	fast := tb.sub("feed")
	pub := tb.dial()
	body := make([]byte, size)
	// The publisher waits for the fast subscriber after each window of
	// messages, so that only the one that does not read falls behind.
	const window = 16
	for i := 0; i < n; i++ {
		binary.BigEndian.PutUint32(body, uint32(i))
		if err := pub.Publish("feed", body); err != nil {
			t.Fatal(err)
		}
		if i%window != window-1 && i != n-1 {
			continue
		}
		for j := i - i%window; j <= i; j++ {
			_, got := recvOp(t, fast, "msg")
			if binary.BigEndian.Uint32(got) != uint32(j) {
				t.Fatalf("fast subscriber: message %d came as %d", j, binary.BigEndian.Uint32(got))
			}
		}
	}
	// Every message is routed now; the slow one starts reading.
	var received, dropped uint64
	last := -1
	for received+dropped < n {
		h, got := recv(t, slow)
		switch h.Op {
		case "msg":
			seq := int(binary.BigEndian.Uint32(got))
			if seq <= last {
				t.Fatalf("slow subscriber: message %d after %d", seq, last)
			}
			if dropped == 0 && seq != last+1 {
				t.Fatalf("slow subscriber: message %d after %d without a dropped notice", seq, last)
			}
			last = seq
			received++
		case "dropped":
			if h.Count == 0 {
				t.Fatal("dropped notice without a count")
			}
			dropped += h.Count
		default:
			t.Fatalf("slow subscriber got %+v", h)
		}
	}
	if dropped == 0 || received+dropped != n {
		t.Fatalf("received %d, dropped %d, want a bounded part of %d and the rest counted", received, dropped, n)
	}
	t.Logf("queue %d bytes: the slow subscriber got %d messages of %d bytes and was told %d were dropped", queue, received, size, dropped)
	// It is caught up: a new message reaches it as any other.
	if err := pub.Publish("feed", []byte("again")); err != nil {
		t.Fatal(err)
	}
	if _, got := recvOp(t, slow, "msg"); string(got) != "again" {
		t.Fatalf("got %q", got)
	}
}

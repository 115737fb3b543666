package bus

import (
	"encoding/binary"
	"runtime"
	"testing"

	"github.com/ipcctl/ipcctl/internal/bustest"
	"github.com/ipcctl/ipcctl/ipc"
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
	dropped := bustest.ReadFeed(t, "slow subscriber", n, func() (string, uint64, []byte) {
		h, got := recv(t, slow)
		return h.Op, h.Count, got
	})
	received := n - dropped
	if dropped == 0 {
		t.Fatalf("none of %d messages dropped: the queue is not bounded", n)
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

// TestKeepingUpSubscriberLosesNothing: a publisher that sends as fast as
// the bus reads is held back while a subscriber that reads falls behind,
// so that subscriber loses nothing, though it is far slower than the
// publisher. (A long PushWait: a loaded machine may stall the reader;
// TestSlowSubscriberBoundedAndTold has one that does not read at all.)
func TestKeepingUpSubscriberLosesNothing(t *testing.T) {
	const (
		queue = 64 << 10
		n     = 5000 // 5 MiB: far more than the queues and the sockets' buffers
	)
	tb := startBus(t, Options{QueueBytes: queue, PushWait: wait})
	reader := tb.sub("feed")
	pub := tb.dial()
	pub.Conn().SetQueue(ipc.DefaultQueueBytes, ipc.OverflowBlock)
	done := make(chan error, 1)
	go func() {
		batch := make([][]byte, 0, 64)
		for i := 0; i < n; i++ {
			body := make([]byte, 1<<10)
			binary.BigEndian.PutUint32(body, uint32(i))
			frame, _ := Encode(&Header{Op: "msg", Group: "feed"}, body)
			if batch = append(batch, frame); len(batch) == cap(batch) || i == n-1 {
				if _, err := pub.Conn().ScheduleBatch(batch); err != nil {
					done <- err
					return
				}
				batch = batch[:0]
			}
		}
		done <- nil
	}()
	for i := 0; i < n; i++ {
		h, got := recv(t, reader)
		if h.Op != "msg" || binary.BigEndian.Uint32(got) != uint32(i) {
			t.Fatalf("message %d: got %+v %d", i, h, binary.BigEndian.Uint32(got))
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestStoppedSubscriberOfAQuietGroupHoldsLittle: what waits for a client
// that does not read keeps alive about what it is, not the whole batch
// each of its messages came in.
func TestStoppedSubscriberOfAQuietGroupHoldsLittle(t *testing.T) {
	const n = 4000 // twice what the stopped client's socket takes
	tb := startBus(t, Options{})
	tb.sub("quiet") // never reads
	pub := tb.sub("echo")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < n; i++ { // each message a burst of its own
		if err := pub.Publish("quiet", make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
		if err := pub.Publish("echo", nil); err != nil {
			t.Fatal(err)
		}
		recvOp(t, pub, "msg")
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 16<<20 {
		t.Fatalf("the heap grew by %d MiB for %d messages of 100 bytes waiting", grew>>20, n)
	}
}

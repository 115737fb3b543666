package natsbus

import (
	"context"
	"testing"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
	"github.com/ipcctl/ipcctl/ipc/bus"
	"github.com/ipcctl/ipcctl/ipc/natsopt"
)

// benchWindow is how many messages the end-to-end benchmark has on the
// way at once: well under every queue's bound, so that none is lost and
// the figures are of deliveries, as -benchmem's allocations per op.
const benchWindow = 2000

// BenchmarkFanOutAcross publishes 64-byte messages on one bus to a
// subscriber of another, through one NATS server, benchWindow at a time:
// one op is one delivery, and its allocations are those of both buses,
// both links and both clients together.
func BenchmarkFanOutAcross(b *testing.B) {
	c := cluster(b, 1)
	one, two := startNode(b, c.URLs()), startNode(b, c.URLs())
	watch := one.dial(bus.PresenceGroup)
	sub := two.dial("bench")
	waitPresence(b, watch, "subscribe", "bench")
	pub := one.dial()
	conn := pub.Conn()
	conn.SetQueue(ipc.DefaultQueueBytes, ipc.OverflowBlock)
	frame, err := bus.Encode(&bus.Header{Op: "msg", Group: "bench"}, make([]byte, 64))
	if err != nil {
		b.Fatal(err)
	}
	batch := make([][]byte, benchWindow)
	for i := range batch {
		batch[i] = frame
	}
	b.ReportAllocs()
	b.ResetTimer()
	got := 0
	for left := b.N; left > 0; {
		n := min(left, benchWindow)
		if _, err := conn.ScheduleBatch(batch[:n]); err != nil {
			b.Fatal(err)
		}
		left -= n
		if !receive(sub, n) {
			break // the rest was lost on the way
		}
		got += n
	}
	b.StopTimer()
	if got < b.N {
		b.Fatalf("%d of %d messages delivered", got, b.N)
	}
}

// receive reads n messages from sub and reports whether they all came.
func receive(sub *bus.Client, n int) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for n > 0 {
		h, _, err := sub.Recv(ctx)
		if err != nil {
			return false
		}
		if h.Op == "msg" {
			n--
		}
	}
	return true
}

// BenchmarkPublish is the publishing side alone: a local message to a
// group passed on to NATS and written to the server, which has no
// subscriber for it. One op is one message, from Publish on the loop's
// goroutine to the NATS client's buffer.
func BenchmarkPublish(b *testing.B) {
	c := cluster(b, 1)
	loop := ipc.NewLoop(ipc.Options{RunDir: b.TempDir()})
	defer loop.Close()
	f, err := New(loop, Options{NATS: natsopt.Options{URLs: c.URLs()}, Prefix: "test.b", Label: "host/b"})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close(time.Second)
	if err := f.nc.FlushTimeout(wait); err != nil {
		b.Fatal(err)
	}
	m := &bus.Outbound{From: "c1", Group: "bench", Body: make([]byte, 64)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i%benchWindow == 0 {
			f.pub.drain()
		}
		f.Publish(m)
	}
	f.pub.close(wait)
	if err := f.nc.FlushTimeout(wait); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if n, err := f.pub.taken(); n > 0 {
		b.Fatalf("%d lost: %v", n, err)
	}
}

// drain waits until the publisher has taken all that was queued.
func (p *publisher) drain() {
	for {
		p.mu.Lock()
		n := len(p.out.msgs)
		p.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(50 * time.Microsecond)
	}
}

package natsbus

import (
	"context"
	"testing"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
	"github.com/ipcctl/ipcctl/ipc/bus"
)

// BenchmarkFanOutAcross publishes 64-byte messages on one bus to a
// subscriber of another, through one NATS server: one op is one delivery.
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
	b.ResetTimer()
	go func() {
		for range b.N {
			if err := conn.Schedule(frame); err != nil {
				return
			}
		}
	}()
	got, dropped := 0, 0
	for got+dropped < b.N {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		h, _, err := sub.Recv(ctx)
		cancel()
		if err != nil {
			break // the rest was lost on the way (nats-lost)
		}
		switch h.Op {
		case "msg":
			got++
		case "dropped":
			dropped += int(h.Count)
		}
	}
	b.ReportMetric(float64(b.N-got-dropped), "lost")
	b.ReportMetric(float64(dropped), "dropped")
}

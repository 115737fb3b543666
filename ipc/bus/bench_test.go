package bus

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
)

// BenchmarkFanOut publishes 64-byte messages from one client to a group
// of 1, 10 and 100 subscribers, and reports deliveries per second and
// how many were dropped (subscribers that fall behind).
func BenchmarkFanOut(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("subs=%d", n), func(b *testing.B) { fanOut(b, n) })
	}
}

func fanOut(b *testing.B, n int) {
	dir, err := os.MkdirTemp("", "busb")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	loop := ipc.NewLoop(ipc.Options{RunDir: dir, MaxSize: FrameMax(0), BorrowPayloads: true, NoSentEvents: true})
	defer loop.Close()
	svc, err := loop.Listen("b", ipc.ServiceOptions{})
	if err != nil {
		b.Fatal(err)
	}
	go New(svc, Options{}).Serve(context.Background(), loop)
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var dropped uint64
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		c, err := Dial(ctx, dir, "b", 0)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		if err := c.Subscribe(ctx, "g"); err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var got uint64
			for got < uint64(b.N) {
				h, _, err := c.Recv(ctx)
				if err != nil {
					return
				}
				switch h.Op {
				case "msg":
					got++
				case "dropped":
					got += h.Count
					mu.Lock()
					dropped += h.Count
					mu.Unlock()
				}
			}
		}()
	}
	pub, err := Dial(ctx, dir, "b", 0)
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()
	frame, _ := Encode(&Header{Op: "msg", Group: "g"}, make([]byte, 64))
	// As bench/busbench publishes: batches queued as fast as the bus
	// takes them.
	pub.Conn().SetQueue(ipc.DefaultQueueBytes, ipc.OverflowBlock)
	batch := make([][]byte, 256)
	for i := range batch {
		batch[i] = frame
	}
	b.ResetTimer()
	t0 := time.Now()
	close(start)
	for left := b.N; left > 0; left -= len(batch) {
		if left < len(batch) {
			batch = batch[:left]
		}
		if _, err := pub.Conn().ScheduleBatch(batch); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
	el := time.Since(t0)
	b.ReportMetric(float64(b.N*n)/el.Seconds(), "deliveries/s")
	b.ReportMetric(float64(dropped), "dropped")
}

package ipc

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

// tailPayload is message i of writer w in the tail tests: a size that
// varies from 0 to a few hundred bytes, every byte telling w and i apart,
// so that a frame overwritten or torn by a race shows.
func tailPayload(w, i int) []byte {
	p := fmt.Appendf(nil, "%d %d ", w, i)
	fill := byte('a' + (w*7+i)%26)
	for range (i * 37) % 300 {
		p = append(p, fill)
	}
	return p
}

// TestScheduleTailRacesFlusher: Schedule appends to the queue's tail
// while the flusher writes what was published, rewinds the tail once it is
// written, and ends when it catches up; a reader that is by turns fast
// and slow gets every message whole and in order, whether the producer
// streams, pauses (the flusher ends and a new one starts) or waits for
// room (OverflowBlock).
func TestScheduleTailRacesFlusher(t *testing.T) {
	const n = 200000
	slowStream(t, n, func(i int) []byte { return tailPayload(0, i) }, func(c *Conn) {
		for i := range n {
			if err := c.Schedule(tailPayload(0, i)); err != nil {
				t.Fatal(err)
			}
			switch {
			case i%20000 == 0:
				time.Sleep(time.Millisecond) // the flusher catches up and ends
			case i%997 == 0:
				runtime.Gosched()
			}
		}
	})
}

// TestScheduleTailConcurrentCallers: Schedule from several goroutines at
// once, with ScheduleBatch, ScheduleFrames and Write from another (each of
// which closes the tail to queue behind it), loses no message and tears
// none: the reader gets each writer's messages whole and in its order.
func TestScheduleTailConcurrentCallers(t *testing.T) {
	a, b := socketPair(t)
	c := NewConn(a, 0)
	c.SetQueue(64<<10, OverflowBlock)
	const producers, n = 4, 20000
	var wg sync.WaitGroup
	for w := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				if err := c.Schedule(tailPayload(w, i)); err != nil {
					t.Errorf("writer %d, message %d: %v", w, i, err)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // writer producers: batches, shared frames and writes in turns
		defer wg.Done()
		w := producers
		for i := 0; i < n; i += 10 {
			var err error
			switch i / 10 % 3 {
			case 0:
				batch := make([][]byte, 10)
				for j := range batch {
					batch[j] = tailPayload(w, i+j)
				}
				_, err = c.ScheduleBatch(batch)
			case 1:
				var frames []byte
				for j := range 10 {
					frames = AppendFrame(frames, tailPayload(w, i+j))
				}
				_, err = c.ScheduleFrames(frames)
			default:
				batch := make([][]byte, 10)
				for j := range batch {
					batch[j] = tailPayload(w, i+j)
				}
				err = c.WriteBatch(batch)
			}
			if err != nil {
				t.Errorf("writer %d, message %d: %v", w, i, err)
				return
			}
		}
	}()
	next := make([]int, producers+1)
	r := NewFrameReader(b, 0)
	b.SetReadDeadline(timeout())
	for got := 0; got < (producers+1)*n; got++ {
		p, err := r.ReadFrame()
		if err != nil {
			t.Fatalf("after %d of %d messages: %v", got, (producers+1)*n, err)
		}
		var w, i int
		if _, err := fmt.Sscanf(string(p), "%d %d", &w, &i); err != nil || w < 0 || w > producers {
			t.Fatalf("message %q: %v", p, err)
		}
		if i != next[w] {
			t.Fatalf("writer %d: message %d came after %d", w, i, next[w]-1)
		}
		if want := tailPayload(w, i); !bytes.Equal(p, want) {
			t.Fatalf("writer %d, message %d: %q, want %q", w, i, p, want)
		}
		next[w] = i + 1
	}
	wg.Wait()
}

// TestScheduleTailKeepsTheBound: the queue's bound holds on Schedule's
// fast path too: under OverflowDrop, with a peer that does not read yet,
// no more than the bound is ever queued, Schedule refuses with
// ErrQueueFull once it is reached, and exactly the messages it accepted
// reach the peer, in order.
func TestScheduleTailKeepsTheBound(t *testing.T) {
	a, b := socketPair(t)
	c := NewConn(a, 0)
	const bound = 10000
	c.SetQueue(bound, OverflowDrop)
	accepted := 0
	for i := 0; ; i++ {
		err := c.Schedule(tailPayload(0, i))
		if errors.Is(err, ErrQueueFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		accepted++
		if q := c.Queued(); q > bound {
			t.Fatalf("%d bytes queued after message %d, past the bound of %d", q, i, bound)
		}
		if i > 1<<20 {
			t.Fatal("a peer that does not read: want ErrQueueFull")
		}
	}
	got := make(chan error, 1)
	go func() {
		r := NewFrameReader(b, 0)
		for i := 0; ; i++ {
			p, err := r.ReadFrame()
			if err != nil {
				if i != accepted {
					err = fmt.Errorf("the peer got %d messages, Schedule accepted %d: %v", i, accepted, err)
				} else {
					err = nil
				}
				got <- err
				return
			}
			if want := tailPayload(0, i); !bytes.Equal(p, want) {
				got <- fmt.Errorf("message %d: %q, want %q", i, p, want)
				return
			}
		}
	}()
	flushed(t, c)
	c.Close()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}

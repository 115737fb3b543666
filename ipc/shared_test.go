package ipc

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestScheduleFramesSharesOneBuffer: the same frames queued on two
// connections reach both, in order with what Schedule queues around
// them.
func TestScheduleFramesSharesOneBuffer(t *testing.T) {
	l := newLoop(t, Options{NoSentEvents: true})
	serve(t, l, "svc", ServiceOptions{})
	a, b := dial(t, l, "svc"), dial(t, l, "svc")
	sa := expect(t, l, EventConnection).Conn
	sb := expect(t, l, EventConnection).Conn
	var frames []byte
	for i := range 3 {
		frames = AppendFrame(frames, []byte(fmt.Sprint("shared ", i)))
	}
	frames = AppendFrame(frames, nil) // an empty message is one too
	for _, sc := range []*Conn{sa, sb} {
		sc.Schedule([]byte("before"))
		if n, err := sc.ScheduleFrames(frames); n != 4 || err != nil {
			t.Fatalf("ScheduleFrames: %d, %v; want 4 queued", n, err)
		}
		sc.Schedule([]byte("after"))
	}
	want := []string{"before", "shared 0", "shared 1", "shared 2", "", "after"}
	for _, c := range []*Conn{a, b} {
		c.NetConn().SetReadDeadline(timeout())
		for _, w := range want {
			if p, err := c.ReadMessage(); err != nil || string(p) != w {
				t.Fatalf("got %q, %v; want %q", p, err, w)
			}
		}
	}
}

// TestScheduleFramesRefusals: bytes that are not whole frames are
// refused; under OverflowDrop the frames that fit are queued, the rest
// refused with ErrQueueFull.
func TestScheduleFramesRefusals(t *testing.T) {
	l := newLoop(t, Options{})
	serve(t, l, "svc", ServiceOptions{})
	dial(t, l, "svc") // never reads
	sc := expect(t, l, EventConnection).Conn
	for _, bad := range [][]byte{{0, 0, 0}, {0, 0, 0, 5, 'a'}, append(AppendFrame(nil, []byte("ok")), 0)} {
		if n, err := sc.ScheduleFrames(bad); n != 0 || !errors.Is(err, ErrBadData) {
			t.Fatalf("%q: %d, %v; want ErrBadData", bad, n, err)
		}
	}
	sc.SetQueue(1000, OverflowDrop)
	var frames []byte
	for range 100 {
		frames = AppendFrame(frames, make([]byte, 96)) // 100 bytes a frame
	}
	queued := 0
	settled := false
	for range 2000 { // past the socket's buffers, then the queue's bound
		n, err := sc.ScheduleFrames(frames)
		queued += n
		if errors.Is(err, ErrQueueFull) {
			if n >= 100 {
				t.Fatalf("%d of 100 frames queued with ErrQueueFull", n)
			}
			if !settled {
				// The flusher may still be handing the socket bytes it
				// has room for; once the socket takes no more, the
				// queue stays full.
				settled = queueStuck(t, sc)
				continue
			}
			// Full now: nothing more fits, and the queue is not left locked.
			if n, err := sc.ScheduleFrames(frames); n != 0 || !errors.Is(err, ErrQueueFull) {
				t.Fatalf("ScheduleFrames on a full queue: %d, %v", n, err)
			}
			if err := sc.Schedule(make([]byte, 2000)); !errors.Is(err, ErrQueueFull) {
				t.Fatalf("Schedule on a full queue: %v", err)
			}
			return
		}
		if err != nil || n != 100 {
			t.Fatalf("ScheduleFrames: %d, %v", n, err)
		}
	}
	t.Fatalf("%d frames queued to a peer that never reads: want ErrQueueFull", queued)
}

// queueStuck waits until the bytes queued on c stop changing, and
// reports whether some are left: its socket takes no more, as when the
// peer never reads. None left means the socket took them all.
func queueStuck(t *testing.T, c *Conn) bool {
	t.Helper()
	last, same := c.Queued(), 0
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		if q := c.Queued(); q != last {
			last, same = q, 0
		} else if same++; same == 10 {
			return last > 0
		}
	}
	t.Fatalf("queue still draining after 10s: %d bytes", last)
	return false
}

package ipc

import (
	"fmt"
	"sync/atomic"
	"time"
)

// Defaults of a service's limits (see ServiceOptions).
const (
	// DefaultFrameTimeout is how long a client may take to send one
	// frame once its first byte came. A Unix client writes a frame of
	// the default maximum size in milliseconds: one that takes seconds
	// is stuck or is holding the service's memory on purpose.
	DefaultFrameTimeout = 10 * time.Second
	// DefaultMaxBuffered bounds the bytes a service holds for its
	// clients' partial frames, all together, unless 8 frames of the
	// loop's maximum size are more.
	DefaultMaxBuffered = 64 << 20
)

// budget bounds the bytes held by the partial frames of a service's
// clients, all together. A nil budget bounds nothing.
type budget struct {
	max  int64
	used atomic.Int64
}

// newBudget returns a budget of max bytes; nil (no bound) when max < 0.
func newBudget(max int64, frameMax int) *budget {
	if max < 0 {
		return nil
	}
	if max == 0 {
		max = max64(DefaultMaxBuffered, 8*int64(HeaderSize+frameMax))
	}
	return &budget{max: max}
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// charge takes n bytes from the budget, or refuses them when they would
// pass its bound. A frame alone always fits: a service can always receive
// one frame of its maximum size.
func (b *budget) charge(n int) error {
	if b == nil {
		return nil
	}
	used := b.used.Add(int64(n))
	if used == int64(n) || used <= b.max {
		return nil
	}
	b.used.Add(-int64(n))
	return fmt.Errorf("%w: a frame of %d bytes would pass the %d bytes the service holds for its clients' partial frames; closing the client",
		ErrOverloaded, n-HeaderSize, b.max)
}

// refund gives back n bytes charged.
func (b *budget) refund(n int) {
	if b != nil {
		b.used.Add(-int64(n))
	}
}

// Buffered returns how many bytes the service holds for its clients'
// partial frames now (counted whole from their length prefix on).
func (s *Service) Buffered() int64 {
	if s.budget == nil {
		return 0
	}
	return s.budget.used.Load()
}

// deadlines holds what a Conn's timeouts are measured by.
type deadlines struct {
	// partAt is when the partial frame being read began (Unix
	// nanoseconds), 0 when none is; set by Wait's goroutine.
	partAt atomic.Int64
	// active is set when bytes are read from the peer or written to it,
	// and cleared by the sweep that sees it.
	active atomic.Bool
	// quietSince is when the sweep last saw activity (sweeper only).
	quietSince time.Time
}

// noteRead records, after a read of n bytes by the loop, whether a
// partial frame began or ended.
func (c *Conn) noteRead(n int) {
	if n > 0 {
		c.dl.active.Store(true)
	}
	switch {
	case c.in.began:
		c.in.began = false
		c.dl.partAt.Store(time.Now().UnixNano())
	case !c.in.midFrame() && c.dl.partAt.Load() != 0:
		c.dl.partAt.Store(0)
	}
}

// sweepEvery is how often a service looks for clients past a deadline,
// given its shortest one: a client is closed at most a quarter late.
func sweepEvery(shortest time.Duration) time.Duration {
	return min(max(shortest/4, 10*time.Millisecond), time.Second)
}

// sweep closes, until the service is closed, the clients that take longer
// than FrameTimeout to send a frame or stay quiet longer than IdleTimeout.
func (s *Service) sweep(frame, idle time.Duration) {
	shortest := frame
	if shortest <= 0 || idle > 0 && idle < shortest {
		shortest = idle
	}
	t := time.NewTicker(sweepEvery(shortest))
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			for _, c := range s.loop.Conns() {
				if c.service == s {
					c.expire(now, frame, idle)
				}
			}
		}
	}
}

// expire closes c if it is past a deadline, with an error event saying
// which. A peer whose bytes wait unread in its socket is not to blame:
// the loop is behind, and reads them when it gets there.
func (c *Conn) expire(now time.Time, frame, idle time.Duration) {
	d := &c.dl
	if d.active.Swap(false) || d.quietSince.IsZero() {
		d.quietSince = now
	}
	at := d.partAt.Load()
	late := frame > 0 && at != 0 && now.Sub(time.Unix(0, at)) >= frame
	quiet := idle > 0 && now.Sub(d.quietSince) >= idle
	if !late && !quiet || c.closed.Load() || c.unread() {
		return
	}
	if late && d.partAt.Load() == at {
		c.fail(fmt.Errorf("%w: the client began a frame and did not finish it within %v", ErrTimeout, frame))
	} else if quiet {
		c.fail(fmt.Errorf("%w: nothing sent or received for %v", ErrTimeout, idle))
	}
}

// unread reports whether bytes from the peer wait in c's socket.
func (c *Conn) unread() bool {
	if c.raw == nil {
		return false
	}
	waiting := false
	c.raw.Control(func(fd uintptr) { waiting = readable(int(fd)) })
	return waiting
}

package ipc

import "sync"

// PauseReading stops the loop reading the connection and handing out its
// messages, until ResumeReading: its peer is slowed down by the kernel
// once the socket's buffers are full, as a peer of a busy loop is. What
// was read already waits too. A router pauses a sender whose recipients
// fall behind (push-back) rather than drop what it sends. It is safe for
// concurrent use, and does nothing on a connection that is not a loop's.
func (c *Conn) PauseReading() {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if c.loop == nil || c.paused.Swap(true) {
		return
	}
	c.loop.unwatch(c) // a reader goroutine (no descriptor) waits in read
}

// ResumeReading undoes PauseReading: the loop reads the connection again,
// and hands out first what it had read. It is safe for concurrent use.
func (c *Conn) ResumeReading() {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if c.loop == nil || !c.paused.Swap(false) {
		return
	}
	c.pcond().Broadcast()
	if c.closed.Load() || c.lingering.Load() {
		return // nothing more to read
	}
	if c.raw != nil {
		c.loop.watch(c)
	}
	c.loop.post([]Event{{Type: eventBuffered, Conn: c}}, true)
}

// Queued returns how many bytes scheduled on the connection are not yet
// taken by its socket: those in its send queue and those being written.
func (c *Conn) Queued() int {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	c.syncTail(c.tail.word.Load())
	return c.qbytes + c.inflight
}

// pcond returns the condition a reader goroutine waits on while the
// connection is paused. The caller holds pmu.
func (c *Conn) pcond() *sync.Cond {
	if c.pausedCond == nil {
		c.pausedCond = sync.NewCond(&c.pmu)
	}
	return c.pausedCond
}

// waitResumed blocks a reader goroutine while the connection is paused,
// until it is resumed or closed.
func (c *Conn) waitResumed() {
	if !c.paused.Load() {
		return
	}
	c.pmu.Lock()
	for c.paused.Load() && !c.closed.Load() {
		c.pcond().Wait()
	}
	c.pmu.Unlock()
}

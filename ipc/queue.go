package ipc

import (
	"fmt"
	"sync"
)

// queueChunk is the size of the buffers frames are queued in: many small
// frames share one, written with one system call, and a full queue is a
// list of them, so that queueing never copies what is already queued.
const queueChunk = 64 << 10

// queueChunks recycles written chunks that nothing points into, between
// all connections: a connection whose queue is idle holds none.
var queueChunks = sync.Pool{New: func() any { b := make([]byte, 0, queueChunk); return &b }}

// Schedule queues p to be sent and returns at once (LibIPC's
// ipc_schedule). p is copied: the caller may reuse it at once. When the
// Conn belongs to a Loop, a sent event follows once it is written. The
// queue is bounded; see Overflow.
func (c *Conn) Schedule(p []byte) error {
	if c.closed.Load() || c.failure.Load() != nil {
		return c.refusal()
	}
	if c.scheduleTail(p) {
		return nil // the frame is in the tail, where the flusher finds it
	}
	c.qmu.Lock()
	_, err := c.schedule(p, nil)
	return err
}

// ScheduleBatch queues each payload of ps as a message of its own, in
// order, as that many calls of Schedule would, but takes the queue's lock
// once rather than once a message: a producer of many small messages
// spends a fraction of the time. It returns how many were queued, fewer
// than len(ps) only with the error that stopped it (the queue is full under
// OverflowDrop or OverflowClose, or the connection is closed).
func (c *Conn) ScheduleBatch(ps [][]byte) (int, error) {
	if len(ps) == 0 {
		return 0, nil
	}
	if c.closed.Load() || c.failure.Load() != nil {
		return 0, c.refusal()
	}
	c.qmu.Lock()
	return c.schedule(ps[0], ps[1:])
}

// refusal is why nothing can be queued on the connection.
func (c *Conn) refusal() error {
	if c.closed.Load() {
		return c.closedErr()
	}
	if f := c.failure.Load(); f != nil {
		return *f // the peer is gone; its end is yet to be read
	}
	return ErrClosed
}

// schedule queues p, then each payload of more, and returns how many it
// queued. The caller holds qmu, which schedule releases.
func (c *Conn) schedule(p []byte, more [][]byte) (int, error) {
	c.shutTail()
	// A caller that accepts to wait writes each chunk it fills itself,
	// from the CPU whose cache holds it, as far as the socket takes it
	// now; the flusher writes the rest.
	writer := c.overflow == OverflowBlock && c.loop == nil && c.raw != nil
	for n := 0; ; n++ {
		if n > 0 {
			p = more[n-1]
		}
		if err := c.room(HeaderSize + len(p)); err != nil {
			return n, err // room unlocked qmu
		}
		filled := c.enqueue(p)
		if !c.flushing {
			c.flushing = true
			go c.flush()
		}
		if filled && writer && c.wmu.TryLock() {
			c.qmu.Unlock()
			err := c.writeNow()
			c.wmu.Unlock()
			if err != nil {
				c.fail(err)
				return n + 1, err
			}
			c.qmu.Lock()
			c.shutTail() // another Schedule may have opened it
		}
		if n == len(more) {
			c.openTail()
			c.qmu.Unlock()
			return n + 1, nil
		}
	}
}

// room waits until size more bytes fit in the queue, or applies the
// overflow policy. The caller holds qmu; room releases it when it
// returns an error.
func (c *Conn) room(size int) error {
	for c.qbytes > 0 && c.qbytes+size > c.qmax {
		switch c.overflow {
		case OverflowBlock:
			c.qcond.Wait()
			c.shutTail() // another Schedule may have opened it
			if c.closed.Load() {
				c.qmu.Unlock()
				return c.closedErr()
			}
			continue
		case OverflowDrop:
			c.refused = true
			c.qmu.Unlock()
			return fmt.Errorf("%w: peer %d does not read", ErrQueueFull, c.id)
		}
		c.qmu.Unlock()
		err := fmt.Errorf("%w: peer %d does not read; closing it", ErrQueueFull, c.id)
		c.fail(err)
		return err
	}
	return nil
}

// enqueue appends p's frame to the queue, and reports whether it filled a
// chunk: p's frame starts a new one behind a chunk that has no room left.
// The caller holds qmu.
func (c *Conn) enqueue(p []byte) bool {
	var fresh bool
	c.queue, fresh = appendChunked(c.queue, p, newChunk)
	c.qbytes += HeaderSize + len(p)
	n := len(c.queue)
	if c.reports {
		// A sent event's payload points into the chunk, capped so that
		// appending to it cannot reach the next frame.
		end := len(c.queue[n-1])
		c.queued = append(c.queued, c.queue[n-1][end-len(p):end:end])
		c.nqueued.Add(1)
	}
	return fresh && n > 1
}

// appendChunked appends p's frame to the last chunk of chunks, or to a new
// one from alloc when that has no room left, and reports whether it took a
// new one.
func appendChunked(chunks [][]byte, p []byte, alloc func(size int) []byte) ([][]byte, bool) {
	size := HeaderSize + len(p)
	n := len(chunks)
	fresh := n == 0 || cap(chunks[n-1])-len(chunks[n-1]) < size
	if fresh {
		chunks = append(chunks, alloc(size))
		n++
	}
	chunks[n-1] = AppendFrame(chunks[n-1], p)
	return chunks, fresh
}

// written says where the write of n bytes of bufs ended: in bufs[i], skip
// bytes into it.
func written(bufs [][]byte, n int) (i, skip int) {
	for i < len(bufs) && n >= len(bufs[i]) {
		n -= len(bufs[i])
		i++
	}
	return i, n
}

// recycle gives written chunks back to the pool.
func recycle(chunks [][]byte) {
	for _, b := range chunks {
		if cap(b) == queueChunk {
			p := new([]byte) // only for a chunk put back: &b would cost one a chunk
			*p = b[:0]
			queueChunks.Put(p)
		}
	}
}

// newChunk returns an empty chunk for at least size bytes.
func newChunk(size int) []byte {
	if size > queueChunk {
		return make([]byte, 0, size)
	}
	return (*queueChunks.Get().(*[]byte))[:0]
}

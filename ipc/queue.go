package ipc

import (
	"fmt"
	"net"
	"sync"

	"golang.org/x/sys/unix"
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
	return c.schedule(ps[0], ps[1:])
}

// schedule queues p, then each payload of more, and returns how many it
// queued.
func (c *Conn) schedule(p []byte, more [][]byte) (int, error) {
	if c.closed.Load() {
		return 0, c.closedErr()
	}
	if f := c.failure.Load(); f != nil {
		return 0, *f // the peer is gone; its end is yet to be read
	}
	c.qmu.Lock()
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
		}
		if n == len(more) {
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
	if c.loop != nil && !c.loop.opts.NoSentEvents {
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

// writeNow writes what is queued as far as the socket takes it without
// waiting, and queues the rest again, in front. The caller holds wmu; the
// connection reports no sent events.
func (c *Conn) writeNow() error {
	chunks, _ := c.takeQueue()
	n, err := now(c.raw.Write, func(fd int) (int, error) { return writevNow(fd, chunks, 0) })
	switch {
	case err == unix.EAGAIN:
		n = 0
	case err != nil:
		return err
	}
	if !c.dl.active.Load() {
		c.dl.active.Store(true)
	}
	i, skip := written(chunks, n)
	recycle(chunks[:i])
	chunks = chunks[i:]
	if len(chunks) == 0 {
		return nil
	}
	chunks[0] = chunks[0][skip:]
	c.qmu.Lock()
	left := 0
	for _, b := range chunks {
		left += len(b)
	}
	c.queue = append(chunks, c.queue...)
	c.qbytes += left
	start := !c.flushing
	c.flushing = true
	c.qmu.Unlock()
	if start {
		go c.flush()
	}
	return nil
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

// flush writes the queue until it is empty, many frames per system call,
// and hands the loop the sent events of what was written. The events are
// delivered without holding wmu, so that Write, called where Wait is,
// never waits for Wait.
func (c *Conn) flush() {
	for {
		c.wmu.Lock()
		var err error
		if chunks, queued := c.takeQueue(); len(chunks) > 0 {
			c.qmu.Lock()
			for _, b := range chunks {
				c.inflight += len(b)
			}
			c.qmu.Unlock()
			err = c.writeBatch(chunks, queued)
		}
		c.wmu.Unlock()
		c.qmu.Lock()
		c.inflight = 0
		sent := c.sent
		c.sent = nil
		done := err != nil || len(sent) == 0 && len(c.queue) == 0
		room := done && err == nil && c.refused && c.loop != nil && c.loop.opts.NoSentEvents
		if done {
			c.refused = false
			c.flushing = false
			if c.drained != nil {
				close(c.drained)
				c.drained = nil
			}
		}
		c.qmu.Unlock()
		if err != nil {
			c.writeFailed(err)
			return
		}
		if room {
			c.loop.deliver(Event{Type: EventSent, Conn: c}) // room again, for OverflowDrop
		}
		if len(sent) > 0 {
			evs := make([]Event, len(sent))
			for i, p := range sent {
				evs[i] = Event{Type: EventSent, Conn: c, Payload: p}
			}
			c.loop.deliverBatch(evs)
		}
		if done {
			return
		}
	}
}

// takeQueue empties the send queue and returns its chunks and the
// payloads among them to report as sent.
func (c *Conn) takeQueue() ([][]byte, [][]byte) {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	chunks, queued := c.queue, c.queued
	c.queue, c.queued, c.qbytes = nil, nil, 0
	c.qcond.Broadcast()
	return chunks, queued
}

// writeBatch writes chunks of frames with one system call where it can
// and passes the payloads to report on to flush, which reports them as
// sent. The caller holds wmu.
func (c *Conn) writeBatch(chunks [][]byte, queued [][]byte) error {
	if err := c.writeAll(chunks); err != nil {
		if c.closed.Load() {
			return ErrClosed
		}
		return err
	}
	if len(queued) == 0 {
		recycle(chunks)
		return nil
	}
	c.nwritten.Add(int64(len(queued)))
	c.qmu.Lock()
	defer c.qmu.Unlock()
	c.sent = append(c.sent, queued...)
	if !c.flushing {
		c.flushing = true
		go c.flush()
	}
	return nil
}

// writeAll writes chunks whole, waiting for the socket to take them.
func (c *Conn) writeAll(chunks [][]byte) error {
	if c.raw == nil {
		bufs := make(net.Buffers, len(chunks)) // WriteTo consumes it
		copy(bufs, chunks)
		_, err := bufs.WriteTo(c.nc)
		return writeError(err)
	}
	w := &c.w
	if w.fn == nil {
		w.fn = w.write // made once: a closure a write would allocate
	}
	w.chunks, w.i, w.skip, w.err = chunks, 0, 0, nil
	err := c.raw.Write(w.fn)
	werr := w.err
	w.chunks, w.err = nil, nil
	if err == nil && werr == nil {
		if !c.dl.active.Load() {
			c.dl.active.Store(true)
		}
	}
	if err == nil {
		err = werr
	}
	return writeError(err)
}

// blockingWrite is the state of a write of chunks whole, kept in the Conn
// so that a write allocates nothing.
type blockingWrite struct {
	chunks  [][]byte
	i, skip int   // where the write is: in chunks[i], skip bytes into it
	err     error // the write failed
	fn      func(fd uintptr) bool
}

// write writes as much of the chunks as the socket takes now, and reports
// whether it is done (written, or failed).
func (w *blockingWrite) write(fd uintptr) bool {
	for w.i < len(w.chunks) {
		n, err := writevNow(int(fd), w.chunks[w.i:], w.skip)
		switch err {
		case nil:
		case unix.EAGAIN:
			return false // wait until writable
		default:
			w.err = err
			return true
		}
		k, rest := written(w.chunks[w.i:], w.skip+n)
		w.i, w.skip = w.i+k, rest
	}
	return true
}

package ipc

import (
	"net"
	"unsafe"

	"golang.org/x/sys/unix"
)

// How the send queue is written. Frames are written from the queue in
// place, from its front, by whoever holds wmu: a caller of Schedule that
// filled a chunk (see schedule), or the connection's flusher goroutine.
// Neither waits for the socket while it holds wmu: what the socket does
// not take stays queued, and the flusher waits for room with wmu
// released, so that a producer that fills the next chunk meanwhile writes
// it itself. A producer on a single processor thus keeps the socket fed
// with large writes while it queues, instead of queueing until the queue
// is full and then waiting for the flusher to write it all.

// writeNow writes what is queued as far as the socket takes it without
// waiting. The caller holds wmu; the connection reports no sent events.
func (c *Conn) writeNow() error {
	if c.fl.now == nil {
		c.fl.now = func(fd uintptr) { c.fl.nowErr = c.writeQueue(int(fd)) } // made once: a write would allocate it
	}
	// Control, not Write: the flusher may be waiting for room in Write,
	// holding the descriptor's write lock.
	err := c.raw.Control(c.fl.now)
	if err == nil {
		err = c.fl.nowErr
	}
	if err == unix.EAGAIN {
		return nil // the flusher writes the rest
	}
	return err
}

// writeQueue writes the queue from its front as far as the socket takes
// it without waiting, and again while more was queued meanwhile. It
// returns unix.EAGAIN when the socket is full. The caller holds wmu.
func (c *Conn) writeQueue(fd int) error {
	for {
		var small [64]unix.Iovec
		var iov []unix.Iovec
		var size int
		c.qmu.Lock()
		if len(c.queue) <= len(small) {
			iov, size = c.pending(small[:0])
		} else {
			// A long queue's vectors are kept for the next write, rather
			// than grown from small's at each write.
			long, n := c.pending(c.fl.iov[:0])
			c.fl.iov, iov, size = long, long, n
		}
		c.qmu.Unlock()
		if len(iov) == 0 {
			return nil
		}
		n, err := rawCall(unix.SYS_WRITEV, fd, unsafe.Pointer(&iov[0]), len(iov))
		if cap(iov) > len(small) {
			clear(iov) // holds no written chunk from the pool
		}
		if n > 0 {
			c.qmu.Lock()
			c.consume(n)
			c.qmu.Unlock()
			if !c.dl.active.Load() {
				c.dl.active.Store(true)
			}
		}
		switch {
		case err != nil:
			return err
		case n < size:
			return unix.EAGAIN // the socket took what it had room for
		}
	}
}

// pending appends to iov the queued bytes not yet written, up to
// maxIovecs buffers, and returns it and how many bytes it holds. The
// caller holds qmu; the bytes stay where they are until consume, which
// only a holder of wmu calls.
func (c *Conn) pending(iov []unix.Iovec) ([]unix.Iovec, int) {
	c.syncTail(c.tail.word.Load())
	return iovecs(iov, c.queue, c.qskip)
}

// consume takes n written bytes off the front of the queue. Written
// chunks go back to the pool, except the last one: frames are queued in
// it again from its start, in memory the CPU's cache still holds, until
// the flusher finds the queue empty. The caller holds qmu and wmu.
func (c *Conn) consume(n int) {
	c.qbytes -= n
	k := 0 // chunks written whole
	for n > 0 {
		b := c.queue[k]
		left := len(b) - c.qskip
		if n < left {
			c.qskip += n
			break
		}
		n -= left
		c.qskip = 0
		if k == len(c.queue)-1 && cap(b) == queueChunk {
			if c.rewindTail(b) {
				c.queue[k] = b[:0]
			} else {
				c.qskip = len(b) // the tail has more, published since
			}
			break
		}
		k++
	}
	if k > 0 {
		recycle(c.queue[:k])
		m := copy(c.queue, c.queue[k:])
		clear(c.queue[m:])
		c.queue = c.queue[:m]
	}
	c.qcond.Broadcast()
}

// flusher is the state of the flusher's writes, kept in the Conn so that
// a write allocates nothing; writeNow's too.
type flusher struct {
	fn     func(fd uintptr) bool
	busy   bool  // another writer held wmu
	err    error // the write failed
	now    func(fd uintptr)
	nowErr error
	iov    []unix.Iovec // writeQueue's vectors for a queue of many chunks
}

// flush writes the queue until it is empty, many frames per system call:
// frames queued while it writes go out with its next write. A connection
// that reports sent events, or has no file descriptor, is written by
// flushReported instead.
func (c *Conn) flush() {
	c.qmu.Lock()
	reports := c.reports
	c.qmu.Unlock()
	if c.raw == nil || reports {
		c.flushReported()
		return
	}
	if c.fl.fn == nil {
		c.fl.fn = c.flushNow // made once: each write would allocate it
	}
	for {
		c.fl.busy, c.fl.err = false, nil
		err := c.raw.Write(c.fl.fn)
		if err == nil {
			err = c.fl.err
		}
		if err == nil && c.fl.busy {
			c.wmu.Lock() // wait for the other writer, then look again
			c.wmu.Unlock()
		}
		if c.flushed(err) {
			return
		}
	}
}

// flushNow writes the queue as far as the socket takes it, and reports
// whether the flusher may stop waiting for room: the queue is written,
// the write failed, or another writer holds wmu (it is waited for without
// holding the descriptor's write lock, which Write may need).
func (c *Conn) flushNow(fd uintptr) bool {
	if !c.wmu.TryLock() {
		c.fl.busy = true
		return true
	}
	err := c.writeQueue(int(fd))
	c.wmu.Unlock()
	if err == unix.EAGAIN {
		return false // wait until writable
	}
	c.fl.err = err
	return true
}

// flushed ends the flusher when the queue is written or a write failed,
// and reports whether it ended.
func (c *Conn) flushed(err error) bool {
	if err != nil && c.closed.Load() {
		err = ErrClosed
	}
	if err != nil {
		err = writeError(err)
		c.failure.CompareAndSwap(nil, &err) // before Flush can see the flusher gone
	}
	c.qmu.Lock()
	w := c.holdTail() // what Schedule publishes from now on is seen, or it is closed
	c.syncTail(w)
	done := err != nil || c.qbytes == 0
	room := done && err == nil && c.refused && c.loop != nil
	if !done {
		c.releaseTail(w)
	} else {
		c.closeHeld(w)
		if err == nil {
			recycle(c.queue) // the last chunk, kept for more frames
			clear(c.queue)
			c.queue, c.qskip = c.queue[:0], 0
		}
		c.endFlushing()
	}
	c.qmu.Unlock()
	switch {
	case err != nil:
		c.writeFailed(err)
	case room:
		c.loop.deliver(Event{Type: EventSent, Conn: c}) // room again, for OverflowDrop
	}
	return done
}

// endFlushing notes that no flusher runs any more. The caller holds qmu.
func (c *Conn) endFlushing() {
	c.refused = false
	c.flushing = false
	if c.drained != nil {
		close(c.drained)
		c.drained = nil
	}
}

// flushReported writes the queue until it is empty, many frames per system call,
// and hands the loop the sent events of what was written. The events are
// delivered without holding wmu, so that Write, called where Wait is,
// never waits for Wait.
func (c *Conn) flushReported() {
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
		if err != nil {
			c.failure.CompareAndSwap(nil, &err) // before Flush can see the flusher gone
		}
		c.qmu.Lock()
		c.inflight = 0
		sent := c.sent
		c.sent = nil
		done := err != nil || len(sent) == 0 && len(c.queue) == 0
		room := done && err == nil && c.refused && c.loop != nil && c.loop.opts.NoSentEvents
		if done {
			c.endFlushing()
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
	c.shutTail()
	chunks, queued := c.queue, c.queued
	if c.qskip > 0 {
		chunks[0] = chunks[0][c.qskip:] // written already
	}
	c.queue, c.queued, c.qbytes, c.qskip = nil, nil, 0, 0
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

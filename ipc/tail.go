package ipc

import (
	"encoding/binary"
	"runtime"
	"sync/atomic"
)

// The tail of a send queue is its last chunk while Schedule may append
// frames to it without taking qmu. A Schedule then claims the tail with
// one compare-and-swap, copies its frame and publishes the tail's new
// length with a store (on amd64 a plain one: see tail_amd64.go), where the
// queue's lock cost two atomic instructions; the flusher, which writes
// what was published, reads the length once a write.
//
// The tail's word says whether it is open (the fast path may append) and
// busy (a caller holds it: a Schedule appending, or a holder of qmu that
// changes it), and how many bytes of the chunk hold published frames. The
// bytes in c.queue's last chunk (its length) are those qmu knows of,
// counted in qbytes; syncTail adds the ones published since. Only a
// holder of qmu opens the tail, and only while a flusher runs that writes
// with pending (flush), since nothing else would see what the fast path
// publishes; whatever else changes the queue closes the tail first, so
// that the rest of the queue's code sees a plain queue of chunks. Many
// goroutines may call Schedule at once: one holds the tail, the others
// take the locked path meanwhile.
type tail struct {
	word  atomic.Uint64
	buf   []byte // the chunk, to its capacity; changed while closed
	limit int    // where the queue's bound stops the fast path (at most len(buf)); changed while held or closed
}

const (
	tailBusy  = 1 << 0
	tailOpen  = 1 << 1
	tailShift = 2 // the published length is the word's bits from here
)

// scheduleTail appends p's frame to the open tail and reports whether it
// did; when it did not (the tail is closed, held, full, or the queue's
// bound is reached), the caller takes the locked path.
func (c *Conn) scheduleTail(p []byte) bool {
	t := &c.tail
	w := t.word.Load()
	if w&(tailOpen|tailBusy) != tailOpen || !t.word.CompareAndSwap(w, w|tailBusy) {
		return false
	}
	off := int(w >> tailShift)
	end := off + HeaderSize + len(p)
	if end > t.limit || end < off {
		t.release(w)
		return false
	}
	b := t.buf[off:end]
	binary.BigEndian.PutUint32(b, uint32(len(p)))
	copy(b[HeaderSize:], p)
	t.release(uint64(end)<<tailShift | tailOpen)
	return true
}

// holdTail waits until no Schedule appends to the tail and keeps any from
// starting, and returns the tail's word (not busy). A closed tail needs
// no holding: only a holder of qmu opens it. The caller holds qmu, and
// releases the tail (releaseTail, or shutTail) before it lets qmu go.
func (c *Conn) holdTail() uint64 {
	for {
		w := c.tail.word.Load()
		if w&tailOpen == 0 || w&tailBusy == 0 && c.tail.word.CompareAndSwap(w, w|tailBusy) {
			return w
		}
		runtime.Gosched() // a Schedule copies its frame
	}
}

// syncTail counts in the queue what the fast path published in the tail:
// the frames up to the word w's length. The caller holds qmu.
func (c *Conn) syncTail(w uint64) {
	if w&tailOpen == 0 {
		return
	}
	n := len(c.queue) - 1
	last := c.queue[n]
	if end := int(w >> tailShift); end > len(last) {
		c.qbytes += end - len(last)
		c.queue[n] = last[:end]
	}
}

// shutTail closes the tail, if open, after counting what was published in
// it: the queue is then a plain queue of chunks until openTail. The caller
// holds qmu.
func (c *Conn) shutTail() { c.closeHeld(c.holdTail()) }

// closeHeld closes the tail that the caller holds, holdTail having
// returned w. The caller holds qmu.
func (c *Conn) closeHeld(w uint64) {
	if w&tailOpen == 0 {
		return
	}
	c.syncTail(w)
	c.tail.buf = nil
	c.tail.word.Store(0)
}

// openTail lets Schedule append to the queue's last chunk without qmu,
// when a flusher runs that writes what it publishes and the chunk is one
// of the pool's (not frames a caller shares, nor one large frame's own).
// The caller holds qmu; the tail is closed.
func (c *Conn) openTail() {
	n := len(c.queue)
	if n == 0 || !c.flushing || c.reports || c.raw == nil {
		return
	}
	last := c.queue[n-1]
	if cap(last) != queueChunk {
		return
	}
	limit := min(cap(last), len(last)+c.qmax-c.qbytes)
	if limit <= len(last) {
		return // the bound is reached: Schedule waits or refuses, locked
	}
	c.tail.buf, c.tail.limit = last[:cap(last)], limit
	c.tail.word.Store(uint64(len(last))<<tailShift | tailOpen)
}

// rewindTail reports whether the queue's last chunk b, whose frames are
// all written, may take frames again from its start: not when it is the
// tail and Schedule published more in it meanwhile. An open tail is
// rewound too. The caller holds qmu and wmu.
func (c *Conn) rewindTail(b []byte) bool {
	w := c.holdTail()
	if w&tailOpen == 0 {
		return true
	}
	if int(w>>tailShift) != len(b) {
		c.tail.release(w)
		return false
	}
	c.tail.limit = min(cap(b), c.qmax-c.qbytes)
	c.tail.release(tailOpen)
	return true
}

// releaseTail lets Schedule append to the tail again, as holdTail found it.
func (c *Conn) releaseTail(w uint64) {
	if w&tailOpen != 0 {
		c.tail.release(w)
	}
}

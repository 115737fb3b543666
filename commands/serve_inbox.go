package commands

import "sync"

// inbox is the queue of messages waiting to be written to a process's
// stdin, bounded in bytes so that a process that does not read cannot make
// serve hold everything its client sends.
type inbox struct {
	mu     sync.Mutex
	cond   *sync.Cond
	queue  [][]byte
	bytes  int
	max    int
	closed bool
	drop   bool // the reader is gone: push discards
}

func newInbox(max int) *inbox {
	b := &inbox{max: max}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// push queues p. It reports false when the queue is over its bound; one
// message is always accepted into an empty queue, whatever its size.
func (b *inbox) push(p []byte) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || b.drop {
		return true
	}
	if b.bytes > 0 && b.bytes+len(p) > b.max {
		return false
	}
	b.queue = append(b.queue, p)
	b.bytes += len(p)
	b.cond.Signal()
	return true
}

// popAll waits for messages and returns them all. It reports false once
// the inbox is closed and empty.
func (b *inbox) popAll() ([][]byte, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.queue) == 0 && !b.closed {
		b.cond.Wait()
	}
	q := b.queue
	b.queue, b.bytes = nil, 0
	return q, len(q) > 0 || !b.closed
}

// discard drops what is queued and what will be pushed.
func (b *inbox) discard() {
	b.mu.Lock()
	b.drop = true
	b.queue, b.bytes = nil, 0
	b.mu.Unlock()
}

// close ends the inbox: popAll returns what is left, then false.
func (b *inbox) close() {
	b.mu.Lock()
	b.closed = true
	b.cond.Broadcast()
	b.mu.Unlock()
}

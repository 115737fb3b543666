package ipc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultQueueBytes bounds what may wait in one connection's send queue.
const DefaultQueueBytes = 4 << 20

// Overflow says what Schedule does when a peer does not read and its send
// queue is full.
type Overflow int

const (
	// OverflowClose closes the connection; the loop reports an error event
	// wrapping ErrQueueFull, then the disconnection. Other peers are not
	// slowed. This is the default.
	OverflowClose Overflow = iota
	// OverflowDrop refuses the message with ErrQueueFull and keeps the
	// connection.
	OverflowDrop
	// OverflowBlock makes Schedule wait until the queue has room, passing
	// the back-pressure on to the caller.
	OverflowBlock
)

var lastConnID atomic.Uint64

// Conn is one connection that carries LibIPC frames: a client's end, or a
// client accepted by a Service. A Conn is a MessageConn. All methods are
// safe for concurrent use, except that a Conn owned by a Loop must not be
// read with ReadMessage (the loop reads it).
type Conn struct {
	id      uint64
	nc      net.Conn
	fr      *FrameReader
	peer    Cred
	loop    *Loop
	service *Service        // the service that accepted it, if any
	raw     syscall.RawConn // nil for a stream without a file descriptor

	// What the loop read and has not handed out (Wait's goroutine only).
	in splitter
	at time.Time // when in was read
	// lingering: its end of stream was read, and its queue is being
	// written before the end is reported (see Loop.linger).
	lingering atomic.Bool

	// Paused by PauseReading; pmu orders pauses and resumptions.
	pmu        sync.Mutex
	paused     atomic.Bool
	pausedCond *sync.Cond
	dl         deadlines // what its service's timeouts are measured by

	wmu sync.Mutex    // one writer on the socket at a time
	w   blockingWrite // writeAll's state (under wmu)

	qmu      sync.Mutex
	qcond    *sync.Cond
	queue    [][]byte // frames waiting, back to back in chunks
	qbytes   int      // bytes in queue
	inflight int      // bytes taken from the queue by the flusher, being written
	queued   [][]byte // payloads in queue to report as sent (loop only)
	sent     [][]byte // written, their sent events not yet delivered
	qmax     int
	overflow Overflow
	flushing bool
	refused  bool          // OverflowDrop refused a message since the queue was last written out
	drained  chan struct{} // closed when flushing ends, for Flush
	// Messages queued and written while sent events are on, for Unsent.
	nqueued, nwritten atomic.Int64

	data      atomic.Value
	heard     atomic.Bool           // a message was received
	failure   atomic.Pointer[error] // why the engine closed it
	closed    atomic.Bool
	reported  atomic.Bool // the loop handed out its disconnection
	closeOnce sync.Once
	gone      chan struct{} // closed when the Conn is closed
}

// NewConn wraps a stream (a Unix socket, TCP, TLS...) as a Conn that reads
// and writes LibIPC frames, refusing received payloads over max bytes.
func NewConn(nc net.Conn, max int) *Conn {
	c := &Conn{
		id:   lastConnID.Add(1),
		nc:   nc,
		fr:   NewFrameReader(nc, max),
		qmax: DefaultQueueBytes,
		gone: make(chan struct{}),
	}
	c.qcond = sync.NewCond(&c.qmu)
	c.raw, c.in.max = c.fr.raw, c.fr.max
	if uc, ok := nc.(*net.UnixConn); ok {
		c.peer, _ = peerCred(uc)
	}
	return c
}

// ID returns the connection's number, unique in this process.
func (c *Conn) ID() uint64 { return c.id }

// Peer returns the peer's credentials (zero for non-Unix connections).
func (c *Conn) Peer() Cred { return c.peer }

// NetConn returns the underlying stream.
func (c *Conn) NetConn() net.Conn { return c.nc }

// SetData attaches the caller's private data to the connection.
func (c *Conn) SetData(v any) { c.data.Store(&v) }

// Data returns what SetData attached, or nil.
func (c *Conn) Data() any {
	if p, ok := c.data.Load().(*any); ok {
		return *p
	}
	return nil
}

// SetQueue sets the bound in bytes of the send queue and the policy applied
// when a message would pass it.
func (c *Conn) SetQueue(maxBytes int, policy Overflow) {
	c.qmu.Lock()
	c.qmax, c.overflow = maxBytes, policy
	c.qmu.Unlock()
}

// ReadMessage reads the next message. It returns io.EOF when the peer has
// closed between messages.
func (c *Conn) ReadMessage() ([]byte, error) {
	p, err := c.fr.ReadFrame()
	if err != nil {
		return nil, c.readError(err)
	}
	c.heard.Store(true)
	return p, nil
}

// ReadBuffered returns the next message when it was already read from the
// socket, without waiting; ok is false when the next ReadMessage would
// have to read. The payload is lent: it is valid until the next read of
// c. A reader of a fast stream calls it until it fails, then
// ReadMessage or ReadContext once, so that most messages cost no
// allocation and no system call.
func (c *Conn) ReadBuffered() (p []byte, ok bool) {
	p, ok = c.fr.ReadBuffered()
	if ok && !c.heard.Load() {
		c.heard.Store(true)
	}
	return p, ok
}

// readError turns a socket error into one of the package's sentinels.
func (c *Conn) readError(err error) error {
	switch {
	case err == io.EOF, errors.Is(err, ErrTooLarge):
		return err
	case c.closed.Load(), errors.Is(err, net.ErrClosed):
		return ErrClosed
	case err == io.ErrUnexpectedEOF:
		return fmt.Errorf("%w: connection closed in the middle of a frame", ErrBadData)
	case errors.Is(err, syscall.ECONNRESET):
		// A reset says only that the peer closed with bytes of ours
		// unread, which depends on timing: it is no refusal (a client
		// tells those by the service's allow list, see trust.go).
		return fmt.Errorf("%w: connection reset: %s closed the connection with data sent to it unread", ErrPeerClosed, c.peerName())
	case errors.Is(err, syscall.EPIPE):
		return io.EOF
	}
	return err
}

// peerName names the other end of the connection, in words for errors:
// a service's connection is to a client.
func (c *Conn) peerName() string {
	if c.service != nil {
		return "the client"
	}
	return "the other end"
}

// WriteMessage sends p now, after whatever is already queued, and returns
// once it is written to the socket.
func (c *Conn) WriteMessage(p []byte) error {
	return c.Write(p)
}

// Write sends p now, after whatever is already queued, and returns once it
// is written to the socket (LibIPC's ipc_write).
func (c *Conn) Write(p []byte) error {
	if c.closed.Load() {
		return c.closedErr()
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	chunks, queued := c.takeQueue()
	// A chunk of its own is exactly the frame's size: it is not recycled
	// when sent events point into the queue's chunks.
	chunks, _ = appendChunked(chunks, p, func(size int) []byte { return make([]byte, 0, size) })
	return c.writeBatch(chunks, queued)
}

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

// writeError names a write that found the peer gone.
func writeError(err error) error {
	if errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) {
		return fmt.Errorf("%w: %v", ErrPeerClosed, err)
	}
	return err
}

// writeFailed ends the writing of a connection because of err. A peer
// that is gone (ErrPeerClosed) may have sent messages before it left: a
// connection the loop reads is left to it, so that they are handed out
// before the error and the disconnection; Schedule refuses from now on.
// Any other failure closes the connection at once.
func (c *Conn) writeFailed(err error) {
	if errors.Is(err, ErrPeerClosed) && c.loop != nil && c.raw != nil {
		c.failure.CompareAndSwap(nil, &err)
		return
	}
	c.fail(err)
}

// fail closes the connection because of err. The loop's reader of the
// connection (if any) reports err before the disconnection: delivering
// it here could block the goroutine that calls Wait.
func (c *Conn) fail(err error) {
	c.failure.CompareAndSwap(nil, &err)
	c.Close()
}

// Err returns why the engine closed the connection (a write that failed,
// a queue that overflowed), or nil while it is open or when its owner
// closed it.
func (c *Conn) Err() error { return c.failed() }

// closedErr is what a write to the closed connection returns: why the
// engine closed it, or ErrClosed.
func (c *Conn) closedErr() error {
	if err := c.failed(); err != nil {
		return fmt.Errorf("%w (%w)", ErrClosed, err)
	}
	return ErrClosed
}

// failed returns why the engine closed the connection, or nil.
func (c *Conn) failed() error {
	if f := c.failure.Load(); f != nil {
		return *f
	}
	return nil
}

// writing reports whether messages wait in the queue or are being
// written.
func (c *Conn) writing() bool {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return c.flushing || len(c.queue) > 0
}

// Flush waits until everything scheduled so far is written, or ctx ends.
// It returns the error that closed the connection, if a write failed.
func (c *Conn) Flush(ctx context.Context) error {
	for {
		c.qmu.Lock()
		if !c.flushing && len(c.queue) == 0 || c.closed.Load() || c.failure.Load() != nil {
			c.qmu.Unlock()
			return c.failed()
		}
		if c.drained == nil {
			c.drained = make(chan struct{})
		}
		drained := c.drained
		c.qmu.Unlock()
		select {
		case <-drained: // more may have been scheduled since: look again
		case <-c.gone:
			return c.failed()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// CloseWrite half-closes the connection: the peer reads end of stream
// while replies can still arrive.
func (c *Conn) CloseWrite() error {
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		c.wmu.Lock()
		defer c.wmu.Unlock()
		if chunks, queued := c.takeQueue(); len(chunks) > 0 {
			if err := c.writeBatch(chunks, queued); err != nil {
				return err
			}
		}
		return cw.CloseWrite()
	}
	return nil
}

// Close closes the connection. Queued messages not yet written are lost;
// use Flush first to keep them.
func (c *Conn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		l := c.loop
		if l != nil {
			l.unwatch(c)
		}
		if c.service != nil && l != nil && c.raw != nil {
			// A service that ends a client reads what the client sent
			// and nobody will: closing with unread bytes would reset
			// the connection: the client sees an orderly end of
			// stream after its replies instead.
			c.raw.Read(func(fd uintptr) bool { drain(int(fd)); return true })
		}
		err = c.nc.Close()
		c.qmu.Lock()
		c.qcond.Broadcast()
		c.qmu.Unlock()
		close(c.gone)
		c.pmu.Lock()
		if c.pausedCond != nil {
			c.pausedCond.Broadcast() // a paused reader goroutine ends
		}
		c.pmu.Unlock()
		if l != nil && !c.reported.Load() {
			l.gone(c) // Wait reports it
		}
	})
	return err
}

// Unsent returns how many of the messages scheduled on a Conn of a Loop
// (with sent events, see Options.NoSentEvents) are not written to the
// socket yet. Once the Conn is closed the count is final, what Close lost:
// a write under way when Close came is waited for, so that a frame the
// kernel took is not counted.
func (c *Conn) Unsent() int {
	if c.closed.Load() {
		c.wmu.Lock() // the close ends a write under way
		c.wmu.Unlock()
	}
	return int(c.nqueued.Load() - c.nwritten.Load())
}

// Done returns a channel closed when the connection is closed.
func (c *Conn) Done() <-chan struct{} { return c.gone }

// Request sends p and waits for the next message, the synchronous
// request/reply path. The wait ends with an error wrapping ErrTimeout when
// ctx's deadline passes first. It must not be used on a Conn owned by a
// Loop.
func (c *Conn) Request(ctx context.Context, p []byte) ([]byte, error) {
	if err := c.Write(p); err != nil {
		return nil, err
	}
	return c.ReadContext(ctx)
}

// ReadContext reads the next message, giving up when ctx ends (with an
// error wrapping ErrTimeout for a passed deadline).
func (c *Conn) ReadContext(ctx context.Context) ([]byte, error) {
	if ctx.Done() == nil || c.frameBuffered() {
		// Nothing can end the wait, or there is none: a reader of a
		// stream of messages is spared a deadline and a callback each.
		return c.ReadMessage()
	}
	if d, ok := ctx.Deadline(); ok {
		c.nc.SetReadDeadline(d)
		defer c.nc.SetReadDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { c.nc.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	p, err := c.ReadMessage()
	if err != nil && ctx.Err() != nil {
		return nil, ctxError(ctx)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return nil, fmt.Errorf("%w waiting for a reply", ErrTimeout)
	}
	return p, err
}

// ctxError turns an ended context into ErrTimeout or its cause.
func ctxError(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w waiting for a reply", ErrTimeout)
	}
	return ctx.Err()
}

// frameBuffered reports whether a whole frame waits in the read buffer,
// so that the next ReadMessage returns without reading the socket.
func (c *Conn) frameBuffered() bool {
	fr := c.fr
	if fr.end-fr.off < HeaderSize {
		return false
	}
	n := binary.BigEndian.Uint32(fr.buf[fr.off:])
	return uint64(n) <= uint64(fr.end-fr.off-HeaderSize)
}

// Buffered reports how many received bytes wait in the connection's read
// buffer: when it is 0, the next ReadMessage may block.
func (c *Conn) Buffered() int { return c.fr.Buffered() }

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
	fl  flusher       // the flusher's and writeNow's state

	tail     tail // the queue's last chunk, while Schedule appends to it without qmu
	qmu      sync.Mutex
	qcond    *sync.Cond
	queue    [][]byte // frames waiting, back to back in chunks
	qskip    int      // bytes at the front of queue[0] already written
	qbytes   int      // bytes in queue not yet written
	inflight int      // bytes taken from the queue by the flusher, being written
	queued   [][]byte // payloads in queue to report as sent (loop only)
	sent     [][]byte // written, their sent events not yet delivered
	qmax     int
	overflow Overflow
	reports  bool // what is written yields sent events: a Conn of a Loop, unless NoSentEvents
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
	c.shutTail() // its bound was the old one
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

// WriteBatch sends each payload of ps as a message of its own, in order,
// after whatever is already queued, and returns once they are written to
// the socket, as that many calls of Write would, but with one system call
// where it can: a one-shot client sends its messages without a queue or
// a goroutine.
func (c *Conn) WriteBatch(ps [][]byte) error {
	if c.closed.Load() {
		return c.closedErr()
	}
	left := 0 // bytes of the frames not yet in chunks: a new chunk takes them all
	for _, p := range ps {
		left += HeaderSize + len(p)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	chunks, queued := c.takeQueue()
	alloc := func(int) []byte { return make([]byte, 0, left) }
	for _, p := range ps {
		chunks, _ = appendChunked(chunks, p, alloc)
		left -= HeaderSize + len(p)
	}
	return c.writeBatch(chunks, queued)
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

package ipc

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Options set up a Loop. The zero value is ready to use.
type Options struct {
	// RunDir is the run directory; "" resolves it with ResolveRunDir.
	RunDir string
	// MaxSize is the largest payload accepted (DefaultMaxSize when 0).
	MaxSize int
	// QueueBytes bounds each connection's send queue (DefaultQueueBytes
	// when 0); Overflow is what happens past it.
	QueueBytes int
	Overflow   Overflow
	// BorrowPayloads lends the payloads of message events instead of
	// giving them: a payload stays valid only until the next Wait, which
	// may reuse its memory, so a caller that keeps one copies it. It
	// saves an allocation and a copy per read, for a caller that handles
	// each message before it waits for the next (a counter, a printer, a
	// relay).
	BorrowPayloads bool
	// SwitchEvents makes switches report every message they pass on
	// (EventSwitchRx and EventSwitchTx). Without it a switch reports only
	// its end.
	SwitchEvents bool
	// NoSentEvents makes what Schedule queues yield no EventSent, so that
	// the queue's buffers are reused as soon as they are written: for a
	// router that sends many messages and needs no report of each. One
	// report remains, for OverflowDrop: a connection that refused a
	// message yields one EventSent with a nil Payload once its queue is
	// written out, so the caller knows it has room again.
	NoSentEvents bool
	// Linger bounds how long a connection whose peer half-closed is kept
	// after its end of stream was read, for what was scheduled on it to
	// be written (DefaultLinger when 0; negative: not at all). The end is
	// handed out once the queue is written, or the bound passed.
	Linger time.Duration
}

// DefaultLinger is how long a half-closed peer is given to read what was
// scheduled for it before its end, unless Options say otherwise.
const DefaultLinger = 5 * time.Second

// Wait reads the loop's connections itself, one read at a time, when it
// has nothing else to hand out: a peer that sends faster than the caller
// handles its messages fills its socket and is slowed down by the kernel.
// Goroutines (accepting clients, flushing send queues, switches) post
// their events instead, up to postedMax before they wait for Wait.
//
// A read of a connection takes up to readBuf bytes. The frames of a read
// share one allocation, which a payload kept by the caller keeps alive;
// with BorrowPayloads nothing is allocated, and reads are larger.
const (
	postedMax    = 4096
	readBuf      = 64 << 10
	borrowedRead = 256 << 10
)

// Events the loop posts to itself; Wait acts on them and never hands them
// out.
const (
	eventGone     EventType = 100 + iota // a connection was closed: report its end
	eventBuffered                        // a connection came with frames already read
	eventEOF                             // a connection read by a goroutine reached its end of stream
)

// Loop is LibIPC's context: it owns services, connections, external fds,
// switches and a timer, and Wait hands out what happens to them one event
// at a time. Wait is meant to be called from one goroutine; every other
// method is safe for concurrent use.
type Loop struct {
	opts Options
	poll *poller
	perr error // why the poller could not be made

	// Wait's goroutine only.
	ev       Event     // the event Wait handed out last
	ready    []Event   // events being handed out
	next     int       // the next event of ready
	cur      *Conn     // the connection whose read is being handed out
	scratch  [2][]byte // what reads of connections land in, in turns
	turn     int       // the scratch buffer of the last read
	handed   *External // an external handed out by the last Wait
	ticking  *ticking  // the timer ticks counts
	ticks    int64     // ticks of ticking handed out (or skipped)
	ctxDone  <-chan struct{}
	ctxWatch func() bool

	pmu    sync.Mutex
	pcond  *sync.Cond // signalled when posted is taken
	posted []Event
	npost  atomic.Int64 // len(posted), read without pmu

	timer  atomic.Pointer[ticking]
	closed atomic.Bool
	once   sync.Once

	mu        sync.Mutex
	conns     map[uint64]*Conn
	externals map[uint64]*External
	services  []*Service
	wg        sync.WaitGroup
}

// ticking is a periodic timer: ticks are due at start + k*every.
type ticking struct {
	every time.Duration
	start time.Time
}

// NewLoop returns an empty loop.
func NewLoop(opts Options) *Loop {
	if opts.MaxSize <= 0 {
		opts.MaxSize = DefaultMaxSize
	}
	if opts.QueueBytes <= 0 {
		opts.QueueBytes = DefaultQueueBytes
	}
	opts.RunDir = ResolveRunDir(opts.RunDir)
	l := &Loop{
		opts:      opts,
		conns:     make(map[uint64]*Conn),
		externals: make(map[uint64]*External),
	}
	l.pcond = sync.NewCond(&l.pmu)
	l.poll, l.perr = newPoller()
	if l.perr != nil {
		l.poll = closedPoller()
	}
	return l
}

// RunDir returns the loop's run directory.
func (l *Loop) RunDir() string { return l.opts.RunDir }

// SetTimer makes the loop yield EventTimer every d; 0 stops the timer.
// Ticks are periodic whatever the load: a busy loop still gets them, and
// ticks missed while nobody waited are not piled up.
func (l *Loop) SetTimer(d time.Duration) {
	var t *ticking
	if d > 0 {
		t = &ticking{every: d, start: time.Now()}
	}
	l.timer.Store(t)
	l.poll.wake() // a sleeping Wait sleeps too long or too short now
}

// Wait returns the next event, or an error when ctx ends or the loop is
// closed (ErrClosed). A due timer tick comes first; then the rest of the
// last read of a connection, the events posted by goroutines, and the
// connections and externals found ready, in that order.
//
// The event is the loop's, as LibIPC's ipc_wait_event fills the caller's
// one: it is valid until the next Wait, which reuses it. Copy it (e :=
// *ev) to keep it longer. Handing out a pointer rather than a copy spares
// a busy service a copy of the event per message.
func (l *Loop) Wait(ctx context.Context) (*Event, error) {
	if l.perr != nil {
		return nil, l.perr
	}
	l.rearm()
	for {
		if l.closed.Load() {
			return nil, ErrClosed
		}
		var deadline time.Time // of the wait for the poller: the next tick
		if t := l.timer.Load(); t != nil {
			next, due := l.tick(t)
			if due {
				return &l.ev, nil
			}
			deadline = next
		}
		if c := l.cur; c != nil && c.paused.Load() {
			l.cur = nil // what it read waits for ResumeReading
		} else if c != nil {
			if p, ok := c.in.next(); ok {
				return l.message(c, p), nil
			}
			l.cur = nil
			if err := c.in.err; err != nil {
				l.ended(c, err)
			}
		}
		if l.next < len(l.ready) {
			if l.process() {
				return &l.ev, nil
			}
			continue
		}
		if l.npost.Load() > 0 {
			l.takePosted()
			continue
		}
		if l.poll.i < l.poll.n {
			if l.polled() {
				return &l.ev, nil
			}
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		l.watchContext(ctx)
		if err := l.sleep(deadline); err != nil {
			if l.closed.Load() || errors.Is(err, ErrClosed) {
				return nil, ErrClosed
			}
			return nil, err
		}
	}
}

// message makes the event to hand out a message p of c. It sets the
// fields one by one: building an Event and copying it costs more than the
// rest of handing out a small message.
func (l *Loop) message(c *Conn, p []byte) *Event {
	ev := &l.ev
	ev.Type = EventMessage
	ev.Conn = c
	ev.Service = c.service
	ev.External = nil
	ev.Switch = nil
	ev.Payload = p
	ev.Err = nil
	ev.Time = c.at
	return ev
}

// tick makes the timer event the one to hand out when a tick is due, or
// returns when the next one is.
func (l *Loop) tick(t *ticking) (time.Time, bool) {
	if t != l.ticking {
		l.ticking, l.ticks = t, 0
	}
	now := time.Now()
	due := t.start.Add(time.Duration(l.ticks+1) * t.every)
	if now.Before(due) {
		return due, false
	}
	l.ticks = int64(now.Sub(t.start) / t.every) // ticks missed are not piled up
	l.ev = Event{Type: EventTimer, Time: now}
	return time.Time{}, true
}

// sleep waits for the poller until the deadline (none when zero), unless
// something was posted meanwhile.
func (l *Loop) sleep(deadline time.Time) error {
	l.poll.sleeping.Store(true)
	if l.npost.Load() > 0 { // posted before the flag was seen
		l.poll.sleeping.Store(false)
		return nil
	}
	err := l.poll.wait(deadline)
	l.poll.sleeping.Store(false)
	return err
}

// watchContext makes ctx's end wake a sleeping Wait. The watch is kept
// while the caller passes the same context.
func (l *Loop) watchContext(ctx context.Context) {
	done := ctx.Done()
	if done == nil || done == l.ctxDone {
		return
	}
	if l.ctxWatch != nil {
		l.ctxWatch()
	}
	l.ctxDone = done
	l.ctxWatch = context.AfterFunc(ctx, l.poll.wake)
}

// pop removes the next event of ready and returns it.
func (l *Loop) pop() Event {
	ev := l.ready[l.next]
	l.ready[l.next] = Event{} // hold on to nothing handed out
	l.next++
	if l.next == len(l.ready) {
		l.ready, l.next = l.ready[:0], 0
	}
	return ev
}

// takePosted moves the posted events to ready, which is empty.
func (l *Loop) takePosted() {
	l.pmu.Lock()
	l.ready, l.posted = l.posted, l.ready[:0]
	l.next = 0
	l.npost.Store(0)
	l.pcond.Broadcast()
	l.pmu.Unlock()
}

// process takes the next event of ready, acts on it, and says whether to
// hand it out.
func (l *Loop) process() bool {
	l.ev = l.pop()
	if l.internal(l.ev) {
		return false
	}
	if l.ev.Type == EventConnection {
		l.watch(l.ev.Conn) // from now on, and not before: its messages follow it
	}
	return true
}

// internal acts on an event the loop posts to itself, and reports whether
// ev was one. A closed connection yields its disconnection, unless that
// was handed out already; frames read before a connection came under the
// loop are handed out next.
func (l *Loop) internal(ev Event) bool {
	switch ev.Type {
	case eventGone:
		l.ready = append(l.ready, l.end(ev.Conn, ErrClosed)...)
	case eventBuffered:
		if c := ev.Conn; !c.reported.Load() && !c.paused.Load() && (c.in.has() || c.in.err != nil) {
			l.cur = c
		}
	case eventEOF:
		l.ended(ev.Conn, io.EOF)
	default:
		return false
	}
	return true
}

// settle acts on the internal events at the head of ready, for Pending:
// they may make no event at all. The frames of cur must all be handed
// out.
func (l *Loop) settle() {
	for l.next < len(l.ready) && (l.cur == nil || !l.cur.in.has()) {
		if t := l.ready[l.next].Type; t != eventGone && t != eventBuffered && t != eventEOF {
			return
		}
		l.internal(l.pop())
	}
}

// polled acts on the next ready fd, and says whether it made an event to
// hand out.
func (l *Loop) polled() bool {
	token := l.poll.token(l.poll.i)
	l.poll.i++
	switch {
	case token == wakeToken:
		l.poll.drainWake()
	case token&externalBit != 0:
		l.mu.Lock()
		x := l.externals[token]
		l.mu.Unlock()
		if x != nil {
			l.handed = x
			l.ev = Event{Type: EventExternal, External: x, Time: time.Now()}
			return true
		}
	default:
		l.ready1(token)
	}
	return false
}

// ready1 reads the connection of token, found ready, and makes it the one
// whose frames are handed out next.
func (l *Loop) ready1(token uint64) {
	c := l.Conn(token)
	if c == nil || c.reported.Load() || c.lingering.Load() || c.paused.Load() {
		return
	}
	if !c.in.has() { // frames read before it came under the loop go first
		l.readConn(c)
	}
	l.cur = c
}

// readConn reads what c has for the loop, once.
func (l *Loop) readConn(c *Conn) {
	buf := c.in.direct()
	direct := buf != nil
	if !direct {
		// Reads take turns between two buffers: with BorrowPayloads, the
		// payload handed out last (from the previous read) is still the
		// caller's when Pending reads the next.
		l.turn ^= 1
		if l.scratch[l.turn] == nil {
			size := readBuf
			if l.opts.BorrowPayloads {
				size = borrowedRead
			}
			l.scratch[l.turn] = make([]byte, size)
		}
		buf = l.scratch[l.turn]
	}
	n, err := now(c.raw.Read, func(fd int) (int, error) { return readNow(fd, buf) })
	switch {
	case err == unix.EAGAIN:
		// woken for nothing
	case err != nil:
		c.in.err = c.readError(err)
	case n == 0 && c.in.midFrame():
		c.in.err = c.readError(io.ErrUnexpectedEOF)
	case n == 0:
		c.in.err = io.EOF
	case direct:
		c.in.grew(n)
	default:
		c.in.feed(buf[:n], l.opts.BorrowPayloads)
	}
	c.noteRead(n)
	if c.in.has() {
		c.heard.Store(true)
		c.at = time.Now() // one clock reading for the frames of one read
	}
}

// ended acts on the end of c's stream, read by the loop after every
// frame before it was handed out. A clean end of a connection that still
// has messages to write is held back until they are written (the peer
// half-closed and reads its replies), bounded by Options.Linger; any
// other end is reported at once.
func (l *Loop) ended(c *Conn, err error) {
	if err == io.EOF && l.opts.Linger >= 0 && !c.lingering.Load() && c.writing() {
		l.linger(c)
		return
	}
	l.ready = append(l.ready, l.end(c, err)...)
}

// linger stops reading c and closes it once its queue is written, or the
// linger bound passed; the loop then reports its end as for Close.
func (l *Loop) linger(c *Conn) {
	c.lingering.Store(true)
	l.unwatch(c)
	linger := l.opts.Linger
	if linger == 0 {
		linger = DefaultLinger
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), linger)
		defer cancel()
		c.Flush(ctx)
		c.Close()
	}()
}

// end closes c, takes it out of the loop, and returns its error event,
// if err is more than a clean end, and its disconnection; nothing when its
// end was reported already. Wait and a goroutine reading c may both come
// here: one of them reports it.
func (l *Loop) end(c *Conn, err error) []Event {
	if c.reported.Swap(true) {
		return nil
	}
	if f := c.failure.Load(); f != nil {
		err = *f // closed by the engine: say why
	}
	c.Close()
	c.in.release()
	l.forget(c)
	now := time.Now()
	evs := make([]Event, 0, 2)
	var cause error
	if err != io.EOF && !errors.Is(err, ErrClosed) {
		cause = err
		evs = append(evs, Event{Type: EventError, Conn: c, Service: c.service, Err: err, Time: now})
	}
	return append(evs, Event{Type: EventDisconnection, Conn: c, Service: c.service, Err: cause, Time: now})
}

// forget removes c from the loop and frees its place at its service, so
// that a client told of the disconnection finds the place free.
func (l *Loop) forget(c *Conn) {
	l.mu.Lock()
	delete(l.conns, c.id)
	l.mu.Unlock()
	if c.service != nil {
		c.service.leave()
	}
}

// rearm lets the external handed out by the last Wait be watched again,
// now that the caller is back.
func (l *Loop) rearm() {
	if x := l.handed; x != nil {
		l.handed = nil
		x.rearm()
	}
}

// deliver posts an event for Wait, blocking while too many wait.
func (l *Loop) deliver(ev Event) {
	l.deliverBatch([]Event{ev})
}

// deliverBatch posts events for Wait, in order, blocking while too many
// wait. It must not be called from Wait's goroutine.
func (l *Loop) deliverBatch(evs []Event) { l.post(evs, false) }

// gone tells Wait that c was closed; it never blocks.
func (l *Loop) gone(c *Conn) { l.post([]Event{{Type: eventGone, Conn: c}}, true) }

// post appends evs to the posted events and wakes Wait if it sleeps.
// Unless force is set, it first waits while postedMax events wait.
func (l *Loop) post(evs []Event, force bool) {
	var now time.Time
	for i := range evs {
		if evs[i].Time.IsZero() {
			if now.IsZero() {
				now = time.Now()
			}
			evs[i].Time = now
		}
	}
	l.pmu.Lock()
	for !force && len(l.posted) >= postedMax && !l.closed.Load() {
		l.pcond.Wait()
	}
	if l.closed.Load() {
		l.pmu.Unlock()
		return
	}
	l.posted = append(l.posted, evs...)
	l.npost.Store(int64(len(l.posted)))
	l.pmu.Unlock()
	if l.poll.sleeping.CompareAndSwap(true, false) {
		l.poll.wake()
	}
}

// Add puts a connection made elsewhere (Dial, NewConn) under the loop: its
// messages become events and Schedule yields sent events. Frames it had
// already read and not returned come first.
func (l *Loop) Add(c *Conn) {
	buffered := false
	if fr := c.fr; fr.Buffered() > 0 {
		c.in.feed(fr.buf[fr.off:fr.end], false)
		fr.off, fr.end = 0, 0
		c.at = time.Now()
		buffered = true
	}
	l.adopt(c)
	if buffered {
		l.deliver(Event{Type: eventBuffered, Conn: c})
	}
	l.watch(c)
}

// adopt registers c with the loop.
func (l *Loop) adopt(c *Conn) {
	c.loop = l
	c.SetQueue(l.opts.QueueBytes, l.opts.Overflow)
	c.qmu.Lock()
	c.shutTail() // the fast path is for a connection without sent events
	c.reports = !l.opts.NoSentEvents
	c.qmu.Unlock()
	l.mu.Lock()
	l.conns[c.id] = c
	l.mu.Unlock()
}

// watch starts turning c's frames into events: Wait reads c when the
// poller finds it ready. A stream without a file descriptor (TLS) is read
// by a goroutine of its own instead.
func (l *Loop) watch(c *Conn) {
	if c.raw == nil {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.read(c)
		}()
		return
	}
	var err error
	cerr := c.raw.Control(func(fd uintptr) {
		err = l.poll.watch(unix.EPOLL_CTL_ADD, int(fd), c.id, unix.EPOLLIN)
	})
	if cerr == nil && err != nil && !errors.Is(err, ErrClosed) {
		c.fail(err) // reported as the connection's error, then its end
	}
	// A closed c (cerr) was reported gone when it was closed.
}

// unwatch stops the poller watching c, before c's fd is closed.
func (l *Loop) unwatch(c *Conn) {
	if c.raw != nil {
		c.raw.Control(func(fd uintptr) {
			l.poll.watch(unix.EPOLL_CTL_DEL, int(fd), c.id, 0)
		})
	}
}

// read posts the messages of a connection without a file descriptor
// until it ends, then its disconnection. The messages of one read go to
// Wait as one batch.
func (l *Loop) read(c *Conn) {
	var batch []Event
	for {
		c.waitResumed()
		p, err := c.ReadMessage()
		if err == io.EOF {
			l.deliverBatch(append(batch, Event{Type: eventEOF, Conn: c}))
			return
		}
		if err != nil {
			if evs := l.end(c, err); evs != nil {
				l.deliverBatch(evs)
			}
			return
		}
		batch = append(batch, Event{Type: EventMessage, Conn: c, Service: c.service, Payload: p})
		if len(batch) == 64 || !c.frameBuffered() {
			l.deliverBatch(batch)
			batch = nil
		}
	}
}

// Conn returns the loop's connection with the given id, or nil.
func (l *Loop) Conn(id uint64) *Conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conns[id]
}

// Conns returns the loop's connections.
func (l *Loop) Conns() []*Conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	cs := make([]*Conn, 0, len(l.conns))
	for _, c := range l.conns {
		cs = append(cs, c)
	}
	return cs
}

// Broadcast schedules p on every connection of the loop accepted by s (all
// connections when s is nil) and returns how many it reached.
func (l *Loop) Broadcast(s *Service, p []byte) int {
	n := 0
	for _, c := range l.Conns() {
		if s != nil && c.service != s {
			continue
		}
		if c.Schedule(p) == nil {
			n++
		}
	}
	return n
}

// Flush waits until every connection's queue is written, or ctx ends
// (it returns ctx's error then). A connection whose write failed is
// passed over: its error is its own, reported as its error event.
func (l *Loop) Flush(ctx context.Context) error {
	for _, c := range l.Conns() {
		c.Flush(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// Close stops the services (removing their sockets), closes every
// connection and external, and makes Wait return ErrClosed. Scheduled
// messages not yet written are lost: call Flush first to keep them.
func (l *Loop) Close() error {
	var err error
	l.once.Do(func() {
		l.timer.Store(nil)
		l.closed.Store(true)
		l.pmu.Lock()
		l.pcond.Broadcast() // posters waiting for room give up
		l.pmu.Unlock()
		l.mu.Lock()
		services := l.services
		conns := make([]*Conn, 0, len(l.conns))
		for _, c := range l.conns {
			conns = append(conns, c)
		}
		externals := make([]*External, 0, len(l.externals))
		for _, x := range l.externals {
			externals = append(externals, x)
		}
		l.mu.Unlock()
		for _, s := range services {
			if e := s.Close(); e != nil && err == nil {
				err = e
			}
		}
		for _, c := range conns {
			c.Close()
		}
		for _, x := range externals {
			x.Close()
		}
		l.poll.close() // a sleeping Wait returns ErrClosed
		l.wg.Wait()
	})
	return err
}

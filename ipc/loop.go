package ipc

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"
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
	// SwitchEvents makes switches report every message they pass on
	// (EventSwitchRx and EventSwitchTx). Without it a switch reports only
	// its end.
	SwitchEvents bool
}

// Events reach Wait in batches: a reader passes on at once the messages
// one read brought, which costs one channel operation for many events.
// eventQueue is how many batches may wait for Wait before readers block,
// passing back-pressure on to the peers; maxBatch bounds a batch.
const (
	eventQueue = 256
	maxBatch   = 64
)

// Loop is LibIPC's context: it owns services, connections, external fds,
// switches and a timer, and Wait hands out what happens to them one event
// at a time. Wait is meant to be called from one goroutine; every other
// method is safe for concurrent use.
type Loop struct {
	opts   Options
	events chan []Event
	ready  []Event // the batch Wait is handing out (Wait's goroutine only)
	next   int     // the next event of ready
	done   chan struct{}
	once   sync.Once

	ticker atomic.Pointer[time.Ticker]
	handed *External // an external handed out by the last Wait

	mu       sync.Mutex
	conns    map[uint64]*Conn
	services []*Service
	wg       sync.WaitGroup
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
	return &Loop{
		opts:   opts,
		events: make(chan []Event, eventQueue),
		done:   make(chan struct{}),
		conns:  make(map[uint64]*Conn),
	}
}

// RunDir returns the loop's run directory.
func (l *Loop) RunDir() string { return l.opts.RunDir }

// SetTimer makes the loop yield EventTimer every d; 0 stops the timer.
// Ticks are periodic whatever the load: a busy loop still gets them, and
// ticks missed while nobody waited are not piled up.
func (l *Loop) SetTimer(d time.Duration) {
	var t *time.Ticker
	if d > 0 {
		t = time.NewTicker(d)
	}
	if old := l.ticker.Swap(t); old != nil {
		old.Stop()
	}
}

// Wait returns the next event, or an error when ctx ends or the loop is
// closed (ErrClosed).
func (l *Loop) Wait(ctx context.Context) (Event, error) {
	l.rearmExternals()
	var tick <-chan time.Time
	if t := l.ticker.Load(); t != nil {
		tick = t.C
		select { // a due tick goes first, so a busy loop still sees it
		case now := <-tick:
			return Event{Type: EventTimer, Time: now}, nil
		default:
		}
	}
	if l.next < len(l.ready) {
		select {
		case <-l.done:
			return Event{}, ErrClosed
		default:
		}
		return l.handOut(l.take()), nil
	}
	select {
	case l.ready = <-l.events:
		l.next = 0
		return l.handOut(l.take()), nil
	case now := <-tick:
		return Event{Type: EventTimer, Time: now}, nil
	case <-ctx.Done():
		return Event{}, ctx.Err()
	case <-l.done:
		return Event{}, ErrClosed
	}
}

// take returns the next event of the batch being handed out.
func (l *Loop) take() Event {
	ev := l.ready[l.next]
	l.ready[l.next] = Event{} // hold on to nothing handed out
	l.next++
	return ev
}

// handOut notes an external event so the next Wait watches it again.
func (l *Loop) handOut(ev Event) Event {
	if ev.Type == EventExternal && ev.Err == nil {
		l.handed = ev.External
	}
	return ev
}

// deliver hands an event to Wait, blocking while the queue is full.
func (l *Loop) deliver(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	l.deliverBatch([]Event{ev})
}

// deliverBatch hands events to Wait, in order, blocking while the queue is
// full.
func (l *Loop) deliverBatch(evs []Event) {
	select {
	case l.events <- evs:
	case <-l.done:
	}
}

// Add puts a connection made elsewhere (Dial, NewConn) under the loop: its
// messages become events and Schedule yields sent events.
func (l *Loop) Add(c *Conn) {
	l.adopt(c)
	l.goRead(c, nil)
}

// adopt registers c with the loop.
func (l *Loop) adopt(c *Conn) {
	c.loop = l
	c.SetQueue(l.opts.QueueBytes, l.opts.Overflow)
	l.mu.Lock()
	l.conns[c.id] = c
	l.mu.Unlock()
}

// goRead starts the goroutine that turns c's frames into events.
func (l *Loop) goRead(c *Conn, s *Service) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		l.read(c, s)
	}()
}

// read delivers c's messages until it ends, then its disconnection. The
// messages of one read go to Wait as one batch.
func (l *Loop) read(c *Conn, s *Service) {
	var cause error
	var batch []Event
	for {
		p, err := c.ReadMessage()
		if err != nil {
			if f := c.failure.Load(); f != nil {
				err = *f // closed by the engine: say why
			}
			if err != io.EOF && !errors.Is(err, ErrClosed) {
				cause = err
				batch = append(batch, Event{Type: EventError, Conn: c, Service: s, Err: err, Time: time.Now()})
			}
			break
		}
		var now time.Time // one clock reading for the frames of one read
		if len(batch) > 0 {
			now = batch[0].Time
		} else {
			now = time.Now()
		}
		if batch == nil && c.frameBuffered() {
			batch = make([]Event, 0, maxBatch) // more are here: one allocation for them all
		}
		batch = append(batch, Event{Type: EventMessage, Conn: c, Service: s, Payload: p, Time: now})
		if len(batch) == maxBatch || !c.frameBuffered() {
			l.deliverBatch(batch)
			batch = nil
		}
	}
	c.Close()
	l.mu.Lock()
	delete(l.conns, c.id)
	l.mu.Unlock()
	if s != nil {
		s.leave() // a client told of the disconnection finds the place free
	}
	batch = append(batch, Event{Type: EventDisconnection, Conn: c, Service: s, Err: cause, Time: time.Now()})
	l.deliverBatch(batch)
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

// Flush waits until every connection's queue is written, or ctx ends.
func (l *Loop) Flush(ctx context.Context) error {
	for _, c := range l.Conns() {
		if err := c.Flush(ctx); err != nil {
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
		l.SetTimer(0)
		l.mu.Lock()
		services := l.services
		conns := make([]*Conn, 0, len(l.conns))
		for _, c := range l.conns {
			conns = append(conns, c)
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
		close(l.done)
		l.wg.Wait()
	})
	return err
}

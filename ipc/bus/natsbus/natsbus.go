package natsbus

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
	"github.com/ipcctl/ipcctl/ipc/bus"
	"github.com/ipcctl/ipcctl/ipc/natsopt"
	"github.com/nats-io/nats.go"
	"golang.org/x/sys/unix"
)

// The bounds of what waits for the loop, received from NATS.
const (
	QueueLen   = 16384
	QueueBytes = 16 << 20
)

// DefaultHeartbeat is how often a bus tells the others it is there; one
// not heard of for five of them has dropped out.
const DefaultHeartbeat = time.Second

// Options set up a Fed.
type Options struct {
	// NATS is how to connect.
	NATS natsopt.Options
	// Prefix is the subjects' prefix, without a final ".".
	Prefix string
	// Label names the bus to the others' presence subscribers (HOST/NAME).
	Label string
	// Heartbeat is DefaultHeartbeat when 0.
	Heartbeat time.Duration
	// Report, when set, receives what happens to the link, from the
	// goroutine that calls Handle.
	Report func(Event)
}

// Fed is one bus's link to the others over NATS. Its methods are called
// from the goroutine that hands the loop's events to the bus, except
// Close.
type Fed struct {
	opts Options
	id   string
	loop *ipc.Loop
	bus  *bus.Bus
	nc   *nats.Conn
	pub  *publisher
	// connected is set once the NATS client has first connected (see
	// known): read from the loop, which must not wait on the client's
	// lock.
	connected atomic.Bool
	efd       int
	x         *ipc.External
	inbox     string // PREFIX.@reply.ID: answers to this bus's requests
	dot       string // "PREFIX.", which the subjects of groups start with
	fromDot   string // "PREFIX.@from.", which the reply subjects naming a sender do

	mu     sync.Mutex // guards the queue, filled by the NATS goroutines
	room   sync.Cond  // on mu: the queue was emptied, or shut
	queue  []item
	spare  []item // the queue's other buffer, while the loop is not using it
	qbytes int
	woken  bool
	shut   bool // the eventfd is closed: nothing more is queued
	// waiting counts the callbacks that wait for room in the queue.
	waiting int
	// paused: the bus holds the link back (bus.LinkPauser), a local
	// subscriber being behind; what comes waits in the queue.
	paused atomic.Bool

	// The loop's goroutine only.
	subs     map[string]*nats.Subscription // by group
	senders  map[string]string             // reply subjects of local senders, by address
	froms    map[string]string             // addresses of remote senders, by reply subject
	subjects map[string]string             // by group; "" for none
	calls    map[string]*pending           // by reply token
	gathers  map[string]*pending           // the calls with each among them
	awaited  map[string]*awaited           // the plain calls that known buses may answer
	leaving  map[leaveKey]leave            // buses those calls await no longer, to be settled
	gone     []gone                        // buses whose callees of calls with each are to be told lost
	recheck  time.Time                     // when presence last told of a departure, until the gatherings are rechecked
	settling *time.Timer                   // set while leaving, gone or recheck holds some
	held     bool                          // callbacks waited for room when the loop last took the queue
	lastCall uint64
	lastIn   uint64 // ids of plain NATS requests
	peers    map[string]*peer
	byes     idSet                      // the buses that said goodbye: what else they sent is late
	in       bus.Inbound                // what is handed to LinkDeliver
	rest     []item                     // what was taken from the queue but not handled: the bus paused the link
	fixed    []*nats.Subscription       // the subscriptions of every bus (Attach)
	seen     map[*nats.Subscription]int // the messages the NATS client dropped, as reported
	ticker   chan struct{}
	closed   bool
}

// item is one thing received from NATS for the loop.
type item struct {
	kind int
	msg  *nats.Msg
	ev   *Event // for kindStatus
}

// The kinds of item.
const (
	kindGroup    = iota // a message to a group
	kindAddr            // a message to an address of this bus
	kindReply           // an answer to a request of this bus
	kindPresence        // another bus's presence notice
	kindBeat            // another bus's heartbeat or goodbye
	kindStatus          // the connection's state changed
	kindTick            // time to beat and check the others
	kindDrops           // the NATS client dropped messages: report them
	kindSettle          // time to settle the calls in leaving
)

// New connects to NATS and makes the link of a bus served by loop; Attach
// gives it the bus. The connection is retried in the background (see
// natsopt), so a bus starts before its NATS servers are up.
func New(loop *ipc.Loop, opts Options) (*Fed, error) {
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = DefaultHeartbeat
	}
	f := &Fed{opts: opts, id: newID(), loop: loop, subs: make(map[string]*nats.Subscription), senders: make(map[string]string),
		froms: make(map[string]string), subjects: make(map[string]string), calls: make(map[string]*pending),
		gathers: make(map[string]*pending), peers: make(map[string]*peer), ticker: make(chan struct{}),
		seen: make(map[*nats.Subscription]int)}
	f.room.L = &f.mu
	f.inbox = opts.Prefix + ".@reply." + f.id
	f.dot, f.fromDot = opts.Prefix+".", opts.Prefix+".@from."
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("nats link: eventfd: %w", err)
	}
	f.efd = efd
	if f.x, err = loop.AddExternal(efd); err != nil {
		unix.Close(efd)
		return nil, err
	}
	f.nc, err = opts.NATS.Connect("ipcctl bus "+opts.Label, f.natsOptions()...)
	if err != nil {
		f.shut = true
		f.x.Close()
		return nil, fmt.Errorf("nats: %w", err)
	}
	if f.nc.IsConnected() {
		f.connected.Store(true)
	}
	f.pub = newPublisher(f.nc)
	return f, nil
}

// natsOptions are the client's settings for a bus: no echo of its own
// messages, and every change of state handed to the loop.
func (f *Fed) natsOptions() []nats.Option {
	var repeats natsopt.Repeats
	status := func(k string) func(*nats.Conn) {
		return func(nc *nats.Conn) { f.status(Event{Kind: Kind(k), URL: nc.ConnectedUrlRedacted()}) }
	}
	return []nats.Option{
		nats.NoEcho(),
		nats.ConnectHandler(func(nc *nats.Conn) {
			f.connected.Store(true)
			repeats.Reset()
			status(string(KindConnected))(nc)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { repeats.Reset(); status(string(KindReconnected))(nc) }),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			f.status(Event{Kind: KindDisconnected, Err: err})
		}),
		nats.ErrorHandler(func(nc *nats.Conn, sub *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrSlowConsumer) {
				f.push(item{kind: kindDrops}, admitAlways)
				return
			}
			if repeats.New(err) {
				f.status(Event{Kind: KindError, Err: err})
			}
		}),
	}
}

// ID returns the bus's id: the part after "@" of its clients' addresses
// on the other buses.
func (f *Fed) ID() string { return f.id }

// Attach gives the link its bus and starts it: the subscriptions of
// every bus, the heartbeat.
func (f *Fed) Attach(b *bus.Bus) error {
	f.bus = b
	p := f.opts.Prefix
	for subj, kind := range map[string]int{p + ".@addr." + f.id: kindAddr, f.inbox + ".*": kindReply,
		p + ".@presence": kindPresence, p + ".@bus": kindBeat} {
		s, err := f.nc.Subscribe(subj, f.receiver(kind))
		if err != nil {
			return fmt.Errorf("nats: subscribe %s: %w", subj, err)
		}
		f.fixed = append(f.fixed, s)
	}
	for _, g := range b.Groups() {
		f.Interest(g, true)
	}
	f.beat("beat")
	go f.tick()
	return nil
}

// tick asks the loop to beat, every heartbeat, until Close.
func (f *Fed) tick() {
	t := time.NewTicker(f.opts.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-f.ticker:
			return
		case <-t.C:
			f.push(item{kind: kindTick}, admitAlways)
		}
	}
}

// receiver returns the callback of a subscription: it queues what comes
// for the loop, waiting while the queue is full (the bus did not keep
// up, or holds the link back): meanwhile what NATS sends waits in the
// NATS client's pending buffer of the subscription, bounded by its
// pending limits, past which the client drops it and reportDrops
// reports the loss.
func (f *Fed) receiver(kind int) nats.MsgHandler {
	return func(m *nats.Msg) { f.push(item{kind: kind, msg: m}, admitWait) }
}

// admit is what push does with an item past the queue's bounds.
type admit int

const (
	admitAlways admit = iota // queues it: the connection's changes and ticks, few
	admitWait                // waits for room, or for the queue to be shut
)

// size is what it counts for in the queue's bound.
func (it *item) size() int {
	if it.msg == nil {
		return 0
	}
	return len(it.msg.Data) + len(it.msg.Subject) + len(it.msg.Reply) + 64
}

// reportDrops reports as lost the messages that the NATS client dropped
// (a slow consumer: past a subscription's pending limits) since it last
// looked.
func (f *Fed) reportDrops() {
	var lost uint64
	count := func(s *nats.Subscription) {
		if n, err := s.Dropped(); err == nil && n > f.seen[s] {
			lost += uint64(n - f.seen[s])
			f.seen[s] = n
		}
	}
	for _, s := range f.fixed {
		count(s)
	}
	for _, s := range f.subs {
		count(s)
	}
	if lost > 0 {
		f.report(Event{Kind: KindLost, Count: lost, Dir: "in", Err: errSlowConsumer})
	}
}

// errSlowConsumer is why the NATS client dropped messages.
var errSlowConsumer = fmt.Errorf("the bus did not keep up: %w", nats.ErrSlowConsumer)

// status queues a change of the connection's state.
func (f *Fed) status(e Event) {
	e.Time = time.Now()
	f.push(item{kind: kindStatus, ev: &e}, admitAlways)
}

// push queues it for the loop, and wakes the loop if the queue was
// empty. An item past the queue's bounds is handled as a says.
func (f *Fed) push(it item, a admit) {
	size := it.size()
	f.mu.Lock()
	defer f.mu.Unlock()
	for a == admitWait && !f.shut && f.full(size) {
		f.waiting++
		f.room.Wait()
		f.waiting--
	}
	if f.shut {
		return
	}
	f.queue = append(f.queue, it)
	f.qbytes += size
	if !f.woken {
		f.woken = true
		f.wake()
	}
}

// full reports whether size more bytes are past the queue's bounds. The
// caller holds mu.
func (f *Fed) full(size int) bool {
	return len(f.queue) >= QueueLen || f.qbytes+size > QueueBytes
}

// wake wakes the loop to take the queue. The caller holds mu, so that
// Close cannot close the eventfd meanwhile.
func (f *Fed) wake() {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	unix.Write(f.efd, one[:])
}

// Handle takes one event of the loop and reports whether it was the
// link's: then it hands what came from NATS to the bus.
func (f *Fed) Handle(ev *ipc.Event) bool {
	if ev.Type != ipc.EventExternal || ev.External != f.x {
		return false
	}
	var buf [8]byte
	unix.Read(f.efd, buf[:])
	if f.paused.Load() {
		return true // ResumeLink wakes the loop again
	}
	if len(f.rest) > 0 {
		rest := f.rest
		f.rest = nil
		if !f.handleAll(rest, false) {
			return true
		}
	}
	f.mu.Lock()
	q := f.queue
	f.queue, f.spare = f.spare, nil
	f.qbytes, f.woken, f.held = 0, false, f.waiting > 0
	f.room.Broadcast()
	f.mu.Unlock()
	f.handleAll(q, true)
	return true
}

// handleAll hands the items of q to the bus until the bus pauses the
// link: what is left then waits in rest. It reports whether it handled
// them all; then q's buffer is the queue's spare again, when spare.
func (f *Fed) handleAll(q []item, spare bool) bool {
	for i := range q {
		f.handle(&q[i])
		q[i] = item{}
		if f.paused.Load() && i+1 < len(q) {
			f.rest = q[i+1:]
			if f.bus != nil {
				f.bus.LinkFlush()
			}
			return false
		}
	}
	if f.bus != nil {
		f.bus.LinkFlush()
	}
	if spare {
		f.mu.Lock()
		f.spare = q[:0]
		f.mu.Unlock()
	}
	return true
}

// LinkBehind reports whether what waits to be published is past half
// its bounds (bus.LinkBacklog).
func (f *Fed) LinkBehind() bool { return f.pub.isBehind() }

// LinkCaughtUp waits until what waits to be published is back under half
// its bounds, or the link is closed, and reports whether that came before
// ctx ended (bus.LinkBacklog).
func (f *Fed) LinkCaughtUp(ctx context.Context) bool { return f.pub.caughtUp(ctx) }

// PauseLink stops the loop handing what comes from NATS to the bus, until
// ResumeLink (bus.LinkPauser): it waits in the queue, within its bounds.
func (f *Fed) PauseLink() { f.paused.Store(true) }

// ResumeLink undoes PauseLink, and wakes the loop to hand over what
// waits.
func (f *Fed) ResumeLink() {
	f.paused.Store(false)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.shut {
		f.wake()
	}
}

// handle acts on one item of the queue.
func (f *Fed) handle(it *item) {
	if f.closed {
		return
	}
	switch it.kind {
	case kindGroup:
		f.onGroup(it.msg)
	case kindAddr:
		f.onAddr(it.msg)
	case kindReply:
		f.onReply(it.msg)
	case kindPresence:
		f.onPresence(it.msg)
	case kindBeat:
		f.onBeat(it.msg)
	case kindStatus:
		f.report(*it.ev)
	case kindTick:
		f.reportDrops()
		f.onTick()
	case kindDrops:
		f.reportDrops()
	case kindSettle:
		f.settleLeaving(time.Now())
	}
}

// report hands e to Options.Report.
func (f *Fed) report(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if f.opts.Report != nil {
		f.opts.Report(e)
	}
}

// Close says goodbye to the other buses, sends what waits, and closes
// the connection to NATS, within timeout. Call it from the loop's
// goroutine, or once that no longer hands events to the link.
func (f *Fed) Close(timeout time.Duration) {
	if f.closed {
		return
	}
	f.closed = true
	close(f.ticker)
	if f.settling != nil {
		f.settling.Stop()
	}
	deadline := time.Now().Add(timeout)
	f.beat("bye")
	f.pub.close(timeout)
	if f.nc.IsConnected() {
		f.nc.FlushTimeout(max(time.Until(deadline), time.Millisecond))
	}
	f.nc.Close()
	f.mu.Lock()
	f.shut = true
	f.room.Broadcast()
	f.mu.Unlock()
	f.x.Close()
}

// newID returns a bus id: 10 letters and digits, from crypto/rand.
func newID() string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	var b [10]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = digits[int(b[i])%len(digits)]
	}
	return string(b[:])
}

package bus

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
)

// DefaultQueueBytes bounds what may wait to be sent to one client of a bus
// unless Options set another bound. Past it, messages for that client are
// dropped and counted (see Bus).
const DefaultQueueBytes = 1 << 20

// Options set up a Bus. The zero value is ready to use.
type Options struct {
	// Name is the bus's name, told to every client in its hello (the
	// service's name when empty).
	Name string
	// MaxSize is the largest body a client may send (ipc.DefaultMaxSize
	// when 0). The loop must accept frames of FrameMax(MaxSize).
	MaxSize int
	// QueueBytes bounds each client's send queue (DefaultQueueBytes when
	// 0).
	QueueBytes int
	// PushWait bounds how long a client that falls behind holds back the
	// senders of what it is sent (DefaultPushWait when 0; see pushBack).
	PushWait time.Duration
	// Report, when set, receives what happens on the bus, one Event at a
	// time, from the goroutine that calls Handle.
	Report func(Event)
	// Messages makes Report receive every message and answer routed too.
	Messages bool
	// Link, when set, joins the bus to other buses (see Link).
	Link Link
}

// Bus routes envelopes between the clients of one service. It keeps no
// goroutine of its own: the loop's events are handed to Handle (or Serve
// does it), one at a time.
type Bus struct {
	svc     *ipc.Service
	opts    Options
	last    uint64 // the last address number given
	clients map[*ipc.Conn]*client
	byAddr  map[string]*client
	groups  map[string][]*client // members in subscription order
	inbound map[callKey]*call    // calls from the link, by caller and id
	out     []byte               // the envelope being routed
	note    []byte               // a notice of the bus's own
	batch   []byte               // the frames of the messages batched, back to back
	shared  bool                 // a client's queue holds the batch's buffer
	touched []*client            // the clients with messages batched
	senders []*client            // the clients whose messages are in the batch
	// linkSending: messages from the link are in the batch.
	linkSending bool
	// linkOut counts what the batch's senders passed on to the link, in
	// bytes, so that what goes to the link alone is flushed once it is
	// as large as a batch: the link may then hold its senders back (see
	// pushBack). linkSlow: the link did not catch up within PushWait, so
	// it holds no sender back until it has.
	linkOut  int
	linkSlow atomic.Bool
	split    [][]byte // the payloads of a run being copied
	// The envelope of the message being routed, and what is handed to
	// the link: kept, so that a message allocates neither.
	env  Header
	link Outbound
}

// client is one connection to the bus.
type client struct {
	conn    *ipc.Conn
	addr    string
	seq     uint64
	groups  []string // sorted
	dropped uint64   // messages discarded since the last dropped notice
	made    map[uint64]*call
	owes    map[*call]struct{}
	gone    bool
	batched []run // its messages in the bus's batch, in order
	sending bool  // it is among the bus's senders
	names   names // the strings of its envelopes
	// slow: it did not read what was queued for it within PushWait, so
	// it no longer holds senders back (see pushBack); it drops instead.
	slow atomic.Bool
}

// run is a stretch of the batch's frames that go to one client: frames
// from start to end, n of them.
type run struct{ start, end, n int }

// New returns a bus for the clients that svc accepts. The loop that owns
// svc must be made with MaxSize FrameMax(opts.MaxSize), and should be with
// NoSentEvents (the bus needs no report of each message it sends) and
// BorrowPayloads (it is done with a message when Handle returns).
func New(svc *ipc.Service, opts Options) *Bus {
	if opts.Name == "" {
		opts.Name = svc.Name()
	}
	if opts.MaxSize <= 0 {
		opts.MaxSize = ipc.DefaultMaxSize
	}
	if opts.QueueBytes <= 0 {
		opts.QueueBytes = DefaultQueueBytes
	}
	if opts.PushWait <= 0 {
		opts.PushWait = DefaultPushWait
	}
	return &Bus{
		svc:     svc,
		opts:    opts,
		clients: make(map[*ipc.Conn]*client),
		byAddr:  make(map[string]*client),
		groups:  make(map[string][]*client),
		inbound: make(map[callKey]*call),
	}
}

// Serve hands the loop's events to Handle until ctx ends or the loop is
// closed. Events that are not the bus's are ignored.
func (b *Bus) Serve(ctx context.Context, loop *ipc.Loop) error {
	for {
		ev, err := loop.Wait(ctx)
		if err != nil {
			if errors.Is(err, ipc.ErrClosed) || ctx.Err() != nil {
				return nil
			}
			return err
		}
		b.Handle(ev)
	}
}

// Handle takes one event of the loop and reports whether it was the bus's:
// a connection accepted by the bus's service, or a message, sent event,
// error or disconnection of one of its clients. It is called from the
// goroutine that calls the loop's Wait.
func (b *Bus) Handle(ev *ipc.Event) bool {
	ours := b.handle(ev)
	if l := b.svc.Loop(); len(b.touched) > 0 && (l == nil || l.Pending() == 0) {
		b.flush() // the burst is over
	}
	return ours
}

// handle is Handle but for the batch.
func (b *Bus) handle(ev *ipc.Event) bool {
	if ev.Type == ipc.EventConnection && ev.Service == b.svc && ev.Conn != nil {
		b.connect(ev.Conn, ev.Time)
		return true
	}
	cl := b.clients[ev.Conn]
	if cl == nil || ev.Conn == nil {
		return false
	}
	switch ev.Type {
	case ipc.EventMessage:
		if !cl.gone {
			b.message(cl, ev.Payload, ev.Time)
		}
	case ipc.EventSent:
		if cl.dropped > 0 {
			b.flushDropped(cl)
		}
	case ipc.EventError:
		b.report(Event{Kind: KindError, Addr: cl.addr, Conn: cl.conn, Err: ev.Err, Time: ev.Time})
	case ipc.EventDisconnection:
		b.leave(cl, ev.Time)
		delete(b.clients, cl.conn)
		b.report(Event{Kind: KindDisconnection, Addr: cl.addr, Conn: cl.conn, Err: ev.Err, Time: ev.Time})
	}
	return true
}

// flush queues the messages batched for each client, with one call of
// the engine per client. Messages are batched as Handle routes them, so
// that a publisher's burst costs each subscriber one queueing and one
// write rather than one a message; the batch is flushed once no event
// of the loop waits (Handle asks it), when it is large, and for one
// client before anything else goes to it.
func (b *Bus) flush() {
	var behind []*client
	for _, cl := range b.touched {
		b.flushBatched(cl)
		if b.behind(cl) {
			behind = append(behind, cl)
		}
	}
	if out := b.linkBehind(); len(behind) > 0 || out != nil {
		b.pushBack(behind, out)
	}
	for _, s := range b.senders {
		s.sending = false
	}
	clear(b.senders)
	b.senders = b.senders[:0]
	b.linkSending, b.linkOut = false, 0
	clear(b.touched)
	b.touched = b.touched[:0]
	if b.shared {
		b.batch, b.shared = nil, false // queued as it is: the next batch is a new one
	} else {
		b.batch = b.batch[:0] // every run was copied: the buffer is free again
	}
}

// batchBytes is how large the batch grows before it is flushed.
const batchBytes = 32 << 10

// linkOverhead is what a message passed on to the link counts for in the
// batch's size besides its body: about its envelope's.
const linkOverhead = 64

// batchFrame encodes a message's envelope as a frame at the end of the
// batch, and returns where it starts and ends.
func (b *Bus) batchFrame(h *Header, body []byte) (int, int, error) {
	if b.batch == nil {
		b.batch = make([]byte, 0, batchBytes+4<<10)
	}
	start := len(b.batch)
	batch, err := appendEnvelope(append(b.batch, 0, 0, 0, 0), h, body)
	if err != nil {
		return 0, 0, err
	}
	binary.BigEndian.PutUint32(batch[start:], uint32(len(batch)-start-ipc.HeaderSize))
	b.batch = batch
	return start, len(batch), nil
}

// enbatch adds the frame of the batch from start to end for cl.
func (b *Bus) enbatch(cl *client, start, end int) {
	if cl.gone {
		return
	}
	n := len(cl.batched)
	switch {
	case n == 0:
		b.touched = append(b.touched, cl)
	case cl.batched[n-1].end == start:
		cl.batched[n-1].end = end
		cl.batched[n-1].n++
		return
	}
	cl.batched = append(cl.batched, run{start, end, 1})
}

// flushBatched queues the messages batched for cl: those that do not fit
// in its queue are dropped and counted, as deliver does.
func (b *Bus) flushBatched(cl *client) {
	runs := cl.batched
	cl.batched = runs[:0]
	if cl.gone {
		return
	}
	for _, r := range runs {
		if cl.dropped > 0 && !b.flushDropped(cl) {
			cl.dropped += uint64(r.n)
			continue
		}
		n, err := b.scheduleRun(cl, b.batch[r.start:r.end:r.end])
		if errors.Is(err, ipc.ErrQueueFull) {
			cl.dropped += uint64(r.n - n)
		}
	}
}

// scheduleRun queues frames of the batch for cl: shared when they are at
// least half of the batch's buffer and other clients have frames in it,
// copied otherwise. So what waits for a client keeps alive at most about
// twice its size (a stopped client of a quiet group would else keep a
// whole batch per message), and a batch for one client is copied into its
// queue's recycled chunks rather than left to it, which would cost a
// fresh batch, its page faults and its collection at every flush.
func (b *Bus) scheduleRun(cl *client, frames []byte) (int, error) {
	if 2*len(frames) >= cap(b.batch) && len(b.touched) > 1 {
		b.shared = true
		return cl.conn.ScheduleFrames(frames)
	}
	ps := b.split[:0]
	for len(frames) >= ipc.HeaderSize {
		end := ipc.HeaderSize + int(binary.BigEndian.Uint32(frames))
		ps = append(ps, frames[ipc.HeaderSize:end])
		frames = frames[end:]
	}
	n, err := cl.conn.ScheduleBatch(ps)
	clear(ps)
	b.split = ps[:0]
	return n, err
}

// connect gives a new client its address and hello, and tells the
// presence group.
func (b *Bus) connect(c *ipc.Conn, at time.Time) {
	c.SetQueue(b.opts.QueueBytes, ipc.OverflowDrop)
	b.last++
	cl := &client{conn: c, addr: "c" + strconv.FormatUint(b.last, 10), seq: b.last,
		made: make(map[uint64]*call), owes: make(map[*call]struct{})}
	b.clients[c] = cl
	b.byAddr[cl.addr] = cl
	b.notify(cl, &Header{Op: "hello", Addr: cl.addr, Bus: b.opts.Name, Version: Version})
	b.report(Event{Kind: KindConnection, Addr: cl.addr, Conn: c, Time: at})
	b.presence("connect", cl, "", nil)
}

// leave forgets a client that disconnected or is being closed: its
// subscriptions, the calls it made, and the calls it owes, whose callers
// learn it now. It is safe to call twice.
func (b *Bus) leave(cl *client, at time.Time) {
	if cl.gone {
		return
	}
	cl.gone = true
	cl.batched = nil
	delete(b.byAddr, cl.addr)
	for _, g := range cl.groups {
		b.dropMember(g, cl)
	}
	b.forgetCalls(cl)
	for c := range cl.owes {
		b.lose(cl, c, "disconnected")
	}
	b.presence("disconnect", cl, "", cl.groups)
}

// malformed tells a client what was wrong with its envelope and closes it
// once that is written; the bus forgets it at once.
func (b *Bus) malformed(cl *client, err error, at time.Time) {
	b.notify(cl, &Header{Op: "error", Error: err.Error()})
	b.report(Event{Kind: KindError, Addr: cl.addr, Conn: cl.conn, Err: err, Time: at})
	b.leave(cl, at)
	go closeAfterFlush(cl.conn)
}

// closeWait bounds how long a client closed by the bus has to read the
// error notice sent to it.
const closeWait = 2 * time.Second

// closeAfterFlush closes c once what was scheduled for it is written, or
// after closeWait.
func closeAfterFlush(c *ipc.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), closeWait)
	defer cancel()
	c.Flush(ctx)
	c.Close()
}

// notify sends a client a notice of the bus's own. A notice that does not
// fit in the client's queue is dropped and counted like a message.
func (b *Bus) notify(cl *client, h *Header) {
	note, err := appendEnvelope(b.note[:0], h, nil)
	if err != nil {
		return // only the bus's own fields: cannot be over MaxHeader
	}
	b.note = note
	b.deliver(cl, note)
}

// deliver schedules one encoded envelope for cl and reports whether it was
// queued. A client whose queue is full loses it, and is told how many it
// lost once its queue has room, before any later message.
func (b *Bus) deliver(cl *client, frame []byte) bool {
	if cl.gone {
		return false
	}
	if len(cl.batched) > 0 {
		b.flushBatched(cl) // what was batched for it goes first
	}
	if cl.dropped > 0 && !b.flushDropped(cl) {
		cl.dropped++
		return false
	}
	if err := cl.conn.Schedule(frame); err != nil {
		if errors.Is(err, ipc.ErrQueueFull) {
			cl.dropped++
		}
		return false
	}
	return true
}

// flushDropped tries to send cl its dropped notice, and reports whether
// it is queued.
func (b *Bus) flushDropped(cl *client) bool {
	var buf [64]byte
	note, _ := appendEnvelope(buf[:0], &Header{Op: "dropped", Count: cl.dropped}, nil)
	if cl.conn.Schedule(note) != nil {
		return false
	}
	b.report(Event{Kind: KindDropped, Addr: cl.addr, Conn: cl.conn, Count: cl.dropped, Time: time.Now()})
	cl.dropped = 0
	return true
}

// report hands e to Options.Report.
func (b *Bus) report(e Event) {
	if b.opts.Report != nil {
		b.opts.Report(e)
	}
}

// errorf makes an error for a bad envelope.
func errorf(f string, args ...any) error {
	return fmt.Errorf("%w: "+f, append([]any{ipc.ErrBadData}, args...)...)
}

package bridge

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
	"github.com/nats-io/nats.go"
)

// natsListener is the Listener of a bridge whose From is a nats://
// endpoint: it answers the requests on the subject through To. Accept
// serves until Close and never returns a connection.
//
// Replies are matched to requests by connection: a connection to To
// carries one request at a time, and a request that gets no reply within
// the timeout closes its connection, so that a late reply can never pass
// for the answer to another request. Up to MaxInFlight connections are
// open at once, kept for the next requests; waitingPerSlot times as many
// requests more may wait for one, and past that a request is answered
// "busy" at once.
// Messages published without a reply subject go, in their order, to one
// connection of their own, whose replies are dropped.
type natsListener struct {
	b      *Bridge
	e      Endpoint
	link   *natsLink
	jobs   chan *nats.Msg
	oneway chan *nats.Msg
	idle   chan *serviceConn
	sub    *nats.Subscription
	seq    atomic.Uint64
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	start  sync.Once
	ow     *serviceConn // the one-way connection (its worker's alone)
}

// waitingPerSlot is how many requests may wait per request in progress.
const waitingPerSlot = 8

// listenNATS makes the bridge answer the requests of From's subject: it
// connects and subscribes, so that the subject is answered once it
// returns (by the server it is connected to; the others of a cluster
// learn it in a moment), and the requests wait for Serve.
func (b *Bridge) listenNATS() error {
	if b.To == nil || b.To.Scheme == "nats" {
		return fmt.Errorf("cannot serve %s: relay it to a service, not to NATS", b.From.natsString())
	}
	link, err := b.connectNATS(b.From)
	if err != nil {
		return err
	}
	n := link.opts.maxInFlight()
	ctx, cancel := context.WithCancel(context.Background())
	l := &natsListener{b: b, e: b.From, link: link, ctx: ctx, cancel: cancel,
		jobs: make(chan *nats.Msg, n*waitingPerSlot), oneway: make(chan *nats.Msg, n*waitingPerSlot), idle: make(chan *serviceConn, n)}
	l.sub, err = link.nc.QueueSubscribe(b.From.Path, link.opts.queue(), l.take)
	if err != nil {
		link.close()
		return fmt.Errorf("cannot subscribe to %s: %w", b.From.natsString(), err)
	}
	if link.nc.IsConnected() {
		link.nc.FlushTimeout(link.opts.timeout())
	}
	b.ln = l
	return nil
}

// Accept starts the workers, then serves until Close.
func (l *natsListener) Accept() (ipc.MessageConn, error) {
	l.start.Do(l.work)
	<-l.ctx.Done()
	return nil, ipc.ErrClosed
}

// work starts the workers: MaxInFlight for the requests, one for the
// one-way messages, in their order.
func (l *natsListener) work() {
	n := l.link.opts.maxInFlight()
	l.wg.Add(n + 1)
	for range n {
		go l.serve(l.jobs, l.answer)
	}
	go l.serve(l.oneway, l.pass)
}

// take queues a message for the workers, or answers "busy" when the
// queue is full: never blocks the NATS client, never buffers without
// bound.
func (l *natsListener) take(m *nats.Msg) {
	if l.ctx.Err() != nil {
		l.fail(m, 0, 503, l.stopping())
		return
	}
	q := l.jobs
	if m.Reply == "" {
		q = l.oneway
	}
	select {
	case q <- m:
	default:
		n := l.link.opts.maxInFlight()
		l.fail(m, 0, 503, fmt.Errorf("busy: %d requests in progress and %d waiting", n, n*waitingPerSlot))
	}
}

// serve handles the messages of q until the listener closes.
func (l *natsListener) serve(q <-chan *nats.Msg, handle func(uint64, *nats.Msg)) {
	defer l.wg.Done()
	for l.ctx.Err() == nil { // once closed, take no more, though some wait
		select {
		case m := <-q:
			id := l.seq.Add(1)
			if l.b.Messages {
				l.b.emit(BridgeEvent{Type: ipc.EventSwitchRx, Pair: id, Dir: "a>b", Payload: m.Data})
			}
			handle(id, m)
		case <-l.ctx.Done():
			return
		}
	}
}

// stopping is the error of the requests a stopping switch turns away.
func (l *natsListener) stopping() error {
	return fmt.Errorf("the switch to %s is stopping", l.b.To)
}

// answer passes a request to To and publishes its reply.
func (l *natsListener) answer(id uint64, m *nats.Msg) {
	reply, code, err := l.call(m.Data)
	if err != nil {
		l.fail(m, id, code, err)
		return
	}
	if err := m.Respond(reply); err != nil {
		// Too large for the server, or past the reconnect buffer: the
		// requester is told if a short error reply still passes.
		l.fail(m, id, 502, fmt.Errorf("reply of %d bytes lost: %w", len(reply), err))
		return
	}
	if l.b.Messages {
		l.b.emit(BridgeEvent{Type: ipc.EventSwitchTx, Pair: id, Dir: "b>a", Payload: reply})
	}
}

// fail reports a request that got no reply and answers it with a NATS
// error, so that the requester learns it at once.
func (l *natsListener) fail(m *nats.Msg, id uint64, code int, err error) {
	l.b.emit(BridgeEvent{Type: ipc.EventError, Pair: id, Target: l.b.target(), Err: err})
	if m.Reply == "" {
		return
	}
	if rerr := errorReply(m, code, err.Error()); rerr != nil {
		l.b.emit(BridgeEvent{Type: ipc.EventError, Pair: id, Target: l.b.target(), Err: fmt.Errorf("error reply lost: %w", rerr)})
	}
}

// call sends one request to To on a connection of its own and waits for
// the reply. The code says what failed, as HTTP's would.
func (l *natsListener) call(p []byte) ([]byte, int, error) {
	if max := maxSize(l.b.Options.MaxSize); len(p) > max {
		return nil, 413, fmt.Errorf("%w: a request of %d bytes, over --max-size %d", ipc.ErrTooLarge, len(p), max)
	}
	sc, err := l.conn()
	if err != nil {
		return nil, 503, fmt.Errorf("cannot reach %s: %w", l.b.To, err)
	}
	if err := sc.mc.WriteMessage(p); err != nil {
		sc.close()
		return nil, 502, fmt.Errorf("%s took no request: %w", l.b.To, err)
	}
	t := time.NewTimer(l.link.opts.timeout())
	defer t.Stop()
	select {
	case reply := <-sc.replies:
		l.release(sc)
		return reply, 0, nil
	case <-sc.done:
		select {
		case reply := <-sc.replies: // the reply, then the end
			return reply, 0, nil
		default:
		}
		return nil, 502, fmt.Errorf("%s closed the connection without replying", l.b.To)
	case <-t.C:
		sc.close()
		return nil, 504, fmt.Errorf("%w: no reply from %s within %s", ipc.ErrTimeout, l.b.To, l.link.opts.timeout())
	}
}

// pass delivers a message published without a reply subject.
func (l *natsListener) pass(id uint64, m *nats.Msg) {
	if err := l.passOn(m.Data); err != nil {
		l.b.emit(BridgeEvent{Type: ipc.EventError, Pair: id, Target: l.b.target(), Err: fmt.Errorf("one-way message lost: %w", err)})
	}
}

func maxSize(n int) int {
	if n <= 0 {
		return ipc.DefaultMaxSize
	}
	return n
}

package natsbus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
	"unsafe"

	"github.com/nats-io/nats.go"
)

// The bounds of what waits to be published. Past half of either, the
// publisher is behind (LinkBehind): the bus holds back the local senders.
const (
	OutLen   = 16384
	OutBytes = 16 << 20
)

// outLen and outBytes are the bounds a new publisher takes: tests lower
// them.
var (
	outLen   = OutLen
	outBytes = OutBytes
)

// publisher publishes, from a goroutine of its own and in order, what the
// loop's goroutine queues: the loop never waits for the NATS client, whose
// writes to a slow or stuck server hold its lock. What waits is bounded;
// past the bound, and when NATS refuses a message, it is counted lost.
//
// The queue holds its messages by value and their bodies in one buffer,
// and the goroutine swaps both with its own, spent ones, so that a
// message costs no allocation on either side.
type publisher struct {
	nc               *nats.Conn
	maxLen, maxBytes int   // the queue's bounds
	full             error // why a message past them is lost

	mu      sync.Mutex
	cond    *sync.Cond
	out     outQueue
	spare   outQueue // the goroutine's, once it has published it
	closing bool
	lost    uint64 // since the last report
	err     error  // why the last one was lost
	done    chan struct{}
	// took, when not nil, is closed when the goroutine next takes the
	// queue, or at close: caughtUp waits on it.
	took chan struct{}
}

// outQueue is a batch of messages to publish.
type outQueue struct {
	msgs   []outMsg
	bodies []byte // every message's body, one after the other
}

// outMsg is one message to publish; its body is bodies[start:end] of its
// queue.
type outMsg struct {
	subject, reply string
	header         nats.Header // nil for none; shared, only read
	start, end     int
}

// newPublisher starts publishing on nc.
func newPublisher(nc *nats.Conn) *publisher {
	p := &publisher{nc: nc, maxLen: outLen, maxBytes: outBytes, full: outFull(outLen, outBytes), done: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	go p.run()
	return p
}

// errNotYet is why a message with headers is lost before the client has
// first connected: it cannot tell yet whether the server takes headers.
var errNotYet = errors.New("not connected to a NATS server yet")

// outFull is why a message was not queued to be published.
func outFull(n, size int) error {
	return fmt.Errorf("%d messages or %d bytes were waiting to be published", n, size)
}

// send queues a message of body (copied) to subject, with reply and h,
// and reports whether it could.
func (p *publisher) send(subject, reply string, h nats.Header, body []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	q := &p.out
	if p.closing || len(q.msgs) >= p.maxLen || len(q.bodies)+len(body) > p.maxBytes {
		p.lost++
		p.err = p.full
		return false
	}
	start := len(q.bodies)
	q.bodies = append(q.bodies, body...)
	q.msgs = append(q.msgs, outMsg{subject: subject, reply: reply, header: h, start: start, end: len(q.bodies)})
	if len(q.msgs) == 1 {
		p.cond.Signal()
	}
	return true
}

// run publishes what is queued until close, then what is left.
func (p *publisher) run() {
	defer close(p.done)
	var m nats.Msg
	for {
		p.mu.Lock()
		for len(p.out.msgs) == 0 && !p.closing {
			p.cond.Wait()
		}
		if len(p.out.msgs) == 0 {
			p.mu.Unlock()
			return
		}
		q := p.out
		p.out, p.spare = p.spare, outQueue{}
		p.wakeWaiters()
		p.mu.Unlock()
		failed, err := p.publish(&m, q)
		q.reuse()
		p.mu.Lock()
		p.spare = q
		if failed > 0 {
			p.lost += failed
			p.err = err
		}
		p.mu.Unlock()
	}
}

// publish hands the messages of q to the NATS client, through m, and
// returns how many it refused and why the last was.
func (p *publisher) publish(m *nats.Msg, q outQueue) (failed uint64, err error) {
	for i := range q.msgs {
		o := &q.msgs[i]
		m.Subject, m.Reply, m.Header, m.Data = o.subject, o.reply, o.header, q.bodies[o.start:o.end]
		if e := p.nc.PublishMsg(m); e != nil {
			failed++
			err = e
			if errors.Is(e, nats.ErrHeadersNotSupported) && !p.nc.HeadersSupported() {
				err = errNotYet
			}
		}
	}
	*m = nats.Msg{}
	return failed, err
}

// behind reports whether what waits is past half the queue's bounds. The
// caller holds mu.
func (p *publisher) behind() bool {
	return len(p.out.msgs) > p.maxLen/2 || len(p.out.bodies) > p.maxBytes/2
}

// isBehind is behind for any goroutine.
func (p *publisher) isBehind() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.behind()
}

// caughtUp waits until the publisher is not behind, or is closing, and
// reports whether that came before ctx ended. The goroutine takes the
// whole queue each time it is done with the last: then it is not behind.
func (p *publisher) caughtUp(ctx context.Context) bool {
	for {
		p.mu.Lock()
		if !p.behind() || p.closing {
			p.mu.Unlock()
			return true
		}
		if p.took == nil {
			p.took = make(chan struct{})
		}
		taken := p.took
		p.mu.Unlock()
		select {
		case <-taken:
		case <-ctx.Done():
			return false
		}
	}
}

// wakeWaiters wakes those in caughtUp. The caller holds mu.
func (p *publisher) wakeWaiters() {
	if p.took != nil {
		close(p.took)
		p.took = nil
	}
}

// keepBytes is the most of a spent queue's buffers kept for reuse: a
// burst's larger ones go back to the runtime. It is large enough for the
// bursts of a busy publisher (16384 messages of 64 bytes), whose queue
// would else grow again from nothing, copied at each doubling, at every
// burst.
const keepBytes = 1 << 20

// reuse empties q for the next batch.
func (q *outQueue) reuse() {
	clear(q.msgs) // the strings and headers
	q.msgs, q.bodies = q.msgs[:0], q.bodies[:0]
	if cap(q.bodies) > keepBytes || cap(q.msgs)*int(unsafe.Sizeof(outMsg{})) > keepBytes {
		*q = outQueue{}
	}
}

// taken returns what was lost since it was last called, and why.
func (p *publisher) taken() (uint64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, err := p.lost, p.err
	p.lost, p.err = 0, nil
	return n, err
}

// close publishes what is queued, waiting at most timeout.
func (p *publisher) close(timeout time.Duration) {
	p.mu.Lock()
	p.closing = true
	p.cond.Signal()
	p.wakeWaiters()
	p.mu.Unlock()
	select {
	case <-p.done:
	case <-time.After(timeout):
	}
}

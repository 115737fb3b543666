package natsbus

import (
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// The bounds of what waits to be published.
const (
	OutLen   = 16384
	OutBytes = 16 << 20
)

// publisher publishes, from a goroutine of its own and in order, what the
// loop's goroutine queues: the loop never waits for the NATS client, whose
// writes to a slow or stuck server hold its lock. What waits is bounded;
// past the bound, and when NATS refuses a message, it is counted lost.
type publisher struct {
	nc *nats.Conn

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*nats.Msg
	bytes   int
	closing bool
	lost    uint64 // since the last report
	err     error  // why the last one was lost
	done    chan struct{}
}

// newPublisher starts publishing on nc.
func newPublisher(nc *nats.Conn) *publisher {
	p := &publisher{nc: nc, done: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	go p.run()
	return p
}

// errOutFull is why a message was not queued to be published.
var errOutFull = fmt.Errorf("%d messages or %d bytes were waiting to be published", OutLen, OutBytes)

// send queues m, and reports whether it could.
func (p *publisher) send(m *nats.Msg) bool {
	size := len(m.Data) + len(m.Subject) + 64
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing || len(p.queue) >= OutLen || p.bytes+size > OutBytes {
		p.lost++
		p.err = errOutFull
		return false
	}
	p.queue = append(p.queue, m)
	p.bytes += size
	if len(p.queue) == 1 {
		p.cond.Signal()
	}
	return true
}

// run publishes what is queued until close, then what is left.
func (p *publisher) run() {
	defer close(p.done)
	var batch []*nats.Msg
	for {
		p.mu.Lock()
		for len(p.queue) == 0 && !p.closing {
			p.cond.Wait()
		}
		if len(p.queue) == 0 {
			p.mu.Unlock()
			return
		}
		batch, p.queue, p.bytes = p.queue, batch[:0], 0
		p.mu.Unlock()
		for i, m := range batch {
			if err := p.nc.PublishMsg(m); err != nil {
				p.mu.Lock()
				p.lost++
				p.err = err
				p.mu.Unlock()
			}
			batch[i] = nil
		}
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
	p.mu.Unlock()
	select {
	case <-p.done:
	case <-time.After(timeout):
	}
}

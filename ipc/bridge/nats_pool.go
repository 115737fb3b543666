package bridge

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
)

// serviceConn is one connection of a natsListener to To, read by a
// goroutine of its own so that the listener sees the reply, the end of
// the connection, or its timeout, whichever comes first.
type serviceConn struct {
	mc      ipc.MessageConn
	replies chan []byte // the reply awaited (nil: replies are dropped)
	done    chan struct{}
	once    sync.Once
}

// read hands out what To sends until the connection ends. A message that
// answers no request (the reply channel already holds one) is dropped.
func (sc *serviceConn) read(dropped func()) {
	defer close(sc.done)
	for {
		p, err := sc.mc.ReadMessage()
		if err != nil {
			return
		}
		select {
		case sc.replies <- p:
		default:
			dropped()
		}
	}
}

func (sc *serviceConn) alive() bool {
	select {
	case <-sc.done:
		return false
	default:
		return true
	}
}

func (sc *serviceConn) close() { sc.once.Do(func() { sc.mc.Close() }) }

// dial opens a connection to To; replies says whether its replies are
// awaited.
func (l *natsListener) dial(replies bool) (*serviceConn, error) {
	// Not l.ctx: a request in progress when the switch stops is finished.
	ctx, cancel := context.WithTimeout(context.Background(), l.link.opts.timeout())
	defer cancel()
	mc, err := l.b.To.Dial(ctx, l.b.Options)
	if err != nil {
		return nil, err
	}
	sc := &serviceConn{mc: mc, done: make(chan struct{})}
	dropped := func() {}
	if replies {
		sc.replies = make(chan []byte, 1)
		dropped = func() {
			l.b.emit(BridgeEvent{Type: ipc.EventError, Target: l.b.target(),
				Err: fmt.Errorf("%s sent a message that answers no request: dropped", l.b.To)})
		}
	}
	go sc.read(dropped)
	return sc, nil
}

// conn returns an idle connection to To that is still open, or a new one.
func (l *natsListener) conn() (*serviceConn, error) {
	for {
		select {
		case sc := <-l.idle:
			if !sc.alive() {
				sc.close()
				continue
			}
			select {
			case <-sc.replies: // came after its request had its answer
			default:
			}
			return sc, nil
		default:
			return l.dial(true)
		}
	}
}

// release keeps a connection for the next request.
func (l *natsListener) release(sc *serviceConn) {
	select {
	case l.idle <- sc:
	default:
		sc.close()
	}
}

// passOn writes a one-way message to the one-way connection, opening it
// again when To closed it.
func (l *natsListener) passOn(p []byte) error {
	if max := maxSize(l.b.Options.MaxSize); len(p) > max {
		return fmt.Errorf("%w: a message of %d bytes, over --max-size %d", ipc.ErrTooLarge, len(p), max)
	}
	if l.ow != nil && !l.ow.alive() {
		l.ow.close()
		l.ow = nil
	}
	if l.ow == nil {
		sc, err := l.dial(false)
		if err != nil {
			return fmt.Errorf("cannot reach %s: %w", l.b.To, err)
		}
		l.ow = sc
	}
	if err := l.ow.mc.WriteMessage(p); err != nil {
		l.ow.close()
		l.ow = nil
		return err
	}
	return nil
}

// Close stops taking requests, lets those in progress finish, answers
// those still waiting with an error, and closes the connections.
func (l *natsListener) Close() error {
	l.start.Do(func() {}) // no workers after Close
	l.cancel()            // the workers take no more, and take answers at once
	if l.sub.Drain() == nil {
		// What the client already holds for the subscription passes
		// through take, so that every request is answered.
		for deadline := time.Now().Add(drainTimeout); l.sub.IsValid() && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
	}
	l.sub.Unsubscribe()
	l.wg.Wait()
	lost := 0
	for {
		select {
		case m := <-l.jobs:
			l.fail(m, 0, 503, l.stopping())
			continue
		case <-l.oneway:
			lost++
			continue
		case sc := <-l.idle:
			sc.close()
			continue
		default:
		}
		break
	}
	if lost > 0 {
		l.b.emit(BridgeEvent{Type: ipc.EventError, Target: l.b.target(),
			Err: fmt.Errorf("%d one-way messages not delivered: the switch is stopping", lost)})
	}
	if l.ow != nil {
		l.ow.close()
	}
	l.link.close()
	return nil
}

// Addr is the endpoint listened on.
func (l *natsListener) Addr() string { return l.e.natsString() }

package bridge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
)

// Bridge is LibIPC's switch as a program: every connection accepted on
// From is paired with a new connection to To, and messages flow both ways
// until either side ends, then both are closed. With To nil, From is a
// TCPd: each client names a local service and is paired with it.
type Bridge struct {
	From    Endpoint
	To      *Endpoint
	Options EndpointOptions
	// Role is what the bridge does with its clients: pair them with To
	// (RoleSwitch), or be LibIPC's ipcd or outgoing tcpd, with To nil.
	Role Role
	// MaxConns bounds the pairs open at once (0: no bound). Past it, new
	// clients are not accepted until a pair ends: they wait in the
	// listening socket's backlog.
	MaxConns int
	// Linger is how long a pair lives on, once one side has ended
	// cleanly, while the other side still sends: a shell pipe that reaches
	// its end still gets its replies. The pair ends when the other side
	// ends too or stays silent for Linger. 0 closes both sides at once,
	// as Relay does.
	Linger time.Duration
	// HalfClose passes a clean end of one side on to the other as a
	// half-close (CloseWrite) where the other side can take one, and
	// keeps the pair until the other side ends too: what a direct
	// connection would do. Linger then does not apply.
	HalfClose bool
	// IdleTimeout closes a pair through which no message has passed,
	// either way, for that long (0: never), reported as an EventError
	// wrapping ErrTimeout. A message counts once whole: a peer that sends
	// a message byte by byte does not keep its pair alive.
	IdleTimeout time.Duration
	// Messages reports every message passed on (EventSwitchRx when read
	// from one side, EventSwitchTx once written to the other).
	Messages bool
	// Report, when set, receives the bridge's events one at a time.
	Report func(BridgeEvent)

	ln     Listener
	nats   *natsLink // to a nats:// To
	mu     sync.Mutex
	lastID atomic.Uint64
	wg     sync.WaitGroup
}

// BridgeEvent is one thing that happened on a bridge.
type BridgeEvent struct {
	// Type is EventConnection (a client was accepted on From),
	// EventDisconnection (its pair ended), EventError, EventSwitchRx or
	// EventSwitchTx.
	Type ipc.EventType
	// Pair numbers the pair from 1; 0 for the listener's own errors.
	Pair uint64
	// Peer is the accepted client's address; Cred its credentials when it
	// is a local process.
	Peer string
	Cred *ipc.Cred
	// Target is what the client is paired with: To, or for TCPd the
	// service named (known from the disconnection on).
	Target string
	// Dir is "a>b" for a message from From's side to To's, "b>a" back.
	Dir string
	// Payload is the message, for switch events.
	Payload []byte
	// Err says what went wrong, for EventError.
	Err  error
	Time time.Time
}

// Listen binds From. It must be called before Serve.
func (b *Bridge) Listen() error {
	if b.From.Scheme == "nats" {
		return b.listenNATS()
	}
	ln, err := b.From.Listen(b.reportingOptions())
	if err != nil {
		return err
	}
	b.ln = ln
	return nil
}

// reportingOptions are the bridge's Options, with the errors that end
// no pair (a datagram dropped, an HTTP request refused) as error events.
func (b *Bridge) reportingOptions() EndpointOptions {
	opts := b.Options
	if opts.Report == nil {
		opts.Report = func(err error) { b.emit(BridgeEvent{Type: ipc.EventError, Err: err}) }
	}
	return opts
}

// ListenOn makes the bridge accept on ln, a listener made elsewhere (a
// Tap, say), in place of Listen.
func (b *Bridge) ListenOn(ln Listener) { b.ln = ln }

// Addr tells where the bridge listens, as an endpoint string.
func (b *Bridge) Addr() string { return b.ln.Addr() }

// Serve accepts and pairs clients until ctx ends, then closes the
// listener (removing a service's socket) and every pair, and returns nil.
func (b *Bridge) Serve(ctx context.Context) error {
	// Once makes the deferred close wait for one the context started,
	// so that the socket is gone when Serve returns.
	var once sync.Once
	closeListener := func() { once.Do(func() { b.ln.Close() }) }
	defer b.wg.Wait()
	defer closeListener()
	if b.To != nil && b.To.Scheme == "nats" && b.From.Scheme != "nats" {
		link, err := b.connectNATS(*b.To)
		if err != nil {
			return err
		}
		b.nats = link
		defer link.close() // after the pairs, which use it
	}
	defer context.AfterFunc(ctx, closeListener)()
	var slots chan struct{}
	if b.MaxConns > 0 {
		slots = make(chan struct{}, b.MaxConns)
	}
	for {
		if slots != nil {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return nil
			}
		}
		start, err := b.accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, ipc.ErrClosed) {
				return nil
			}
			b.emit(BridgeEvent{Type: ipc.EventError, Err: fmt.Errorf("accept on %s: %w", b.Addr(), err)})
			switch {
			case errors.Is(err, ipc.ErrPermission), errors.Is(err, ipc.ErrRefused):
				// A client refused (a tap's allow list, a bad WebSocket
				// handshake): the next may pass.
			case !temporary(err):
				return err
			default:
				time.Sleep(50 * time.Millisecond)
			}
		}
		if start == nil {
			if slots != nil {
				<-slots
			}
			continue
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			start(ctx, b.lastID.Add(1))
			if slots != nil {
				<-slots
			}
		}()
	}
}

// temporary reports whether an accept error may pass (too many files).
func temporary(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// accept takes one client and returns what runs its pair.
func (b *Bridge) accept() (func(context.Context, uint64), error) {
	if sl, ok := b.ln.(*streamListener); ok {
		nc, err := sl.acceptStream()
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, id uint64) { b.runStream(ctx, id, sl, nc) }, nil
	}
	a, err := b.ln.Accept()
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, id uint64) {
		b.connected(id, a)
		switch b.Role {
		case RoleIPCd:
			b.runIPCd(ctx, id, a)
		case RoleTCPdOut:
			b.runTCPdOut(ctx, id, a)
		default:
			b.pair(ctx, id, a)
		}
	}, nil
}

// runStream finishes a TCP or TLS client's set-up, then pairs it.
func (b *Bridge) runStream(ctx context.Context, id uint64, sl *streamListener, nc net.Conn) {
	defer context.AfterFunc(ctx, func() { nc.Close() })() // ends a slow handshake
	b.emit(BridgeEvent{Type: ipc.EventConnection, Pair: id, Peer: nc.RemoteAddr().String(), Target: b.target()})
	if tc, ok := nc.(*tls.Conn); ok {
		hctx, cancel := context.WithTimeout(ctx, tcpdTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			nc.Close()
			b.end(id, b.target(), fmt.Errorf("TLS handshake with %s: %w", nc.RemoteAddr(), err))
			return
		}
	}
	if b.To == nil {
		b.runTCPd(ctx, id, nc)
		return
	}
	b.pair(ctx, id, sl.framing.Wrap(nc, sl.max))
}

// runTCPd pairs a TCPd client with the local service it names.
func (b *Bridge) runTCPd(ctx context.Context, id uint64, nc net.Conn) {
	client, service, name, err := serveTCPd(ctx, nc, b.Options)
	if err != nil {
		if name != "" {
			err = fmt.Errorf("TCPd client %s asked for %q: %w (answered ne)", nc.RemoteAddr(), name, err)
		}
		b.end(id, name, err)
		return
	}
	b.relay(ctx, id, client, service, name)
}

// pair connects a client to To and relays between them.
func (b *Bridge) pair(ctx context.Context, id uint64, a ipc.MessageConn) {
	to, err := b.dialTo(ctx)
	if err != nil {
		a.Close()
		b.end(id, b.target(), fmt.Errorf("cannot reach %s for pair %d: %w", b.To, id, err))
		return
	}
	b.relay(ctx, id, a, to, b.To.String())
}

// dialTo opens a pair's connection to To.
func (b *Bridge) dialTo(ctx context.Context) (ipc.MessageConn, error) {
	if b.nats != nil {
		return b.nats.dial(ctx)
	}
	return b.To.Dial(ctx, b.reportingOptions())
}

// relay passes messages between the two ends of a pair until it ends.
func (b *Bridge) relay(ctx context.Context, id uint64, a, to ipc.MessageConn, target string) {
	if b.Messages {
		a = &tap{MessageConn: a, b: b, id: id, rx: "a>b", tx: "b>a"}
		to = &tap{MessageConn: to, b: b, id: id, rx: "b>a", tx: "a>b"}
	}
	var idle *idleWatch
	if b.IdleTimeout > 0 {
		idle = watchIdle(b.IdleTimeout, a, to)
		defer idle.stop()
		a, to = &active{a, idle}, &active{to, idle}
	}
	err := b.passBoth(ctx, a, to)
	if ctx.Err() != nil {
		err = nil
	}
	if idle != nil && idle.err() != nil {
		err = idle.err()
	}
	b.end(id, target, err)
}

// connected reports a client accepted as a MessageConn.
func (b *Bridge) connected(id uint64, a ipc.MessageConn) {
	ev := BridgeEvent{Type: ipc.EventConnection, Pair: id, Target: b.target()}
	switch c := a.(type) {
	case *ipc.Conn:
		cred := c.Peer()
		ev.Cred = &cred
		ev.Peer = fmt.Sprintf("pid %d", cred.PID)
	case *WSConn:
		ev.Peer = c.remote
	case interface{ RemoteAddr() net.Addr }:
		if a := c.RemoteAddr(); a != nil {
			ev.Peer = a.String()
		}
	}
	b.emit(ev)
}

// end reports a pair's end: its error, if any, then its disconnection.
func (b *Bridge) end(id uint64, target string, err error) {
	if err != nil {
		b.emit(BridgeEvent{Type: ipc.EventError, Pair: id, Target: target, Err: err})
	}
	b.emit(BridgeEvent{Type: ipc.EventDisconnection, Pair: id, Target: target})
}

// target is what clients are paired with, as events name it.
func (b *Bridge) target() string {
	if b.To == nil {
		return ""
	}
	return b.To.String()
}

// emit hands an event to Report, one at a time.
func (b *Bridge) emit(ev BridgeEvent) {
	if b.Report == nil {
		return
	}
	ev.Time = time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.Report(ev)
}

// tap reports the messages that pass through one end of a pair.
type tap struct {
	ipc.MessageConn
	b      *Bridge
	id     uint64
	rx, tx string // directions of messages read from and written to it
}

func (t *tap) ReadMessage() ([]byte, error) {
	p, err := t.MessageConn.ReadMessage()
	if err == nil {
		t.b.emit(BridgeEvent{Type: ipc.EventSwitchRx, Pair: t.id, Dir: t.rx, Payload: p})
	}
	return p, err
}

// CloseWrite half-closes the end, when it can be.
func (t *tap) CloseWrite() error {
	if cw, ok := t.MessageConn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

func (t *tap) WriteMessage(p []byte) error {
	err := t.MessageConn.WriteMessage(p)
	if err == nil {
		t.b.emit(BridgeEvent{Type: ipc.EventSwitchTx, Pair: t.id, Dir: t.tx, Payload: p})
	}
	return err
}

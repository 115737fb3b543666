package bridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
	"github.com/ipcctl/ipcctl/ipc/natsopt"
	"github.com/nats-io/nats.go"
)

// natsLink is a Bridge's connection to NATS, shared by all its pairs and
// requests. nats.go keeps it up: it reconnects to the cluster's servers
// (those named, and those the servers announce) and subscribes again;
// the link reports each loss and return of the connection as events.
type natsLink struct {
	nc    *nats.Conn
	e     Endpoint
	opts  NATSOptions
	slots chan struct{} // one per request in progress
}

// connectNATS connects the bridge to the servers of e. A connection made
// at once is not an event; one made later (the servers were down), and
// every reconnection, is a connection event.
func (b *Bridge) connectNATS(e Endpoint) (*natsLink, error) {
	opts := b.Options.NATS
	var repeats natsopt.Repeats
	up := func(nc *nats.Conn) {
		repeats.Reset()
		b.emit(BridgeEvent{Type: ipc.EventConnection, Peer: nc.ConnectedUrlRedacted(), Target: e.natsString()})
	}
	started := make(chan struct{})
	var atOnce bool
	first := func(nc *nats.Conn) {
		<-started
		if !atOnce {
			up(nc)
		}
	}
	defer close(started)
	nc, err := e.natsConnect(opts.Conn, "ipcctl switch "+e.natsString(),
		nats.ConnectHandler(first),
		nats.ReconnectHandler(up),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if nc.IsClosed() {
				return // the bridge's own end
			}
			if err == nil {
				err = errors.New("the server closed the connection")
			}
			b.emit(BridgeEvent{Type: ipc.EventError, Target: e.natsString(),
				Err: fmt.Errorf("NATS connection lost (%v): reconnecting; requests meanwhile may be lost", err)})
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if repeats.New(err) {
				b.emit(BridgeEvent{Type: ipc.EventError, Target: e.natsString(), Err: fmt.Errorf("NATS: %w", err)})
			}
		}),
	)
	if err != nil {
		return nil, err
	}
	atOnce = nc.IsConnected()
	return &natsLink{nc: nc, e: e, opts: opts, slots: make(chan struct{}, opts.maxInFlight())}, nil
}

// dial returns a pair's end that makes each message a NATS request to
// the endpoint's subject and gives back the answers.
func (l *natsLink) dial(ctx context.Context) (ipc.MessageConn, error) {
	if wildcard(l.e.Path) {
		return nil, fmt.Errorf("cannot send requests to %s: its subject has a wildcard", l.e.natsString())
	}
	return newNATSRequester(ctx, l.nc, l.e.Path, l.opts.timeout(), l.slots), nil
}

// close ends the link, letting the replies already given go out first,
// for a few seconds at most.
func (l *natsLink) close() {
	l.nc.Drain() // closes at once when no server is connected
	for deadline := time.Now().Add(drainTimeout); !l.nc.IsClosed(); {
		if time.Now().After(deadline) {
			l.nc.Close()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// drainTimeout bounds the flushing of what is still to go out at the end.
const drainTimeout = 5 * time.Second

// natsRequester is a MessageConn to a NATS service: each message written
// is one request to the subject, and its reply is the next message read.
// Requests are made one at a time, so replies come in the order of the
// messages. No responder, a timeout or a micro-service error reply is a
// write error, which ends a pair: the local client is disconnected, as
// from a service that refused it.
type natsRequester struct {
	nc      *nats.Conn
	subject string
	timeout time.Duration // 0: until closed
	slots   chan struct{} // shared bound on requests in progress, or nil
	ctx     context.Context
	cancel  context.CancelFunc
	replies chan []byte
}

func newNATSRequester(ctx context.Context, nc *nats.Conn, subject string, timeout time.Duration, slots chan struct{}) *natsRequester {
	ctx, cancel := context.WithCancel(ctx)
	return &natsRequester{nc: nc, subject: subject, timeout: timeout, slots: slots,
		ctx: ctx, cancel: cancel, replies: make(chan []byte, 1)}
}

// WriteMessage makes p a request and waits for its reply.
func (r *natsRequester) WriteMessage(p []byte) error {
	if r.slots != nil {
		select {
		case r.slots <- struct{}{}:
			defer func() { <-r.slots }()
		case <-r.ctx.Done():
			return ipc.ErrClosed
		}
	}
	ctx := r.ctx
	if r.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.timeout)
		defer cancel()
	}
	m, err := r.nc.RequestWithContext(ctx, r.subject, p)
	if err != nil {
		return r.requestError(err)
	}
	if err := serviceError(m); err != nil {
		return fmt.Errorf("%w: %s answered %v", ipc.ErrRefused, r.subject, err)
	}
	select {
	case r.replies <- m.Data:
		return nil
	case <-r.ctx.Done():
		return ipc.ErrClosed
	}
}

// requestError says why a request got no reply.
func (r *natsRequester) requestError(err error) error {
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return fmt.Errorf("no NATS responder on %s: %w", r.subject, ipc.ErrNoService)
	case r.ctx.Err() != nil:
		return ipc.ErrClosed
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return fmt.Errorf("%w: no reply on %s within %s", ipc.ErrTimeout, r.subject, r.timeout)
	}
	return fmt.Errorf("request on %s: %w", r.subject, err)
}

// ReadMessage returns the reply to the last request.
func (r *natsRequester) ReadMessage() ([]byte, error) {
	select {
	case p := <-r.replies:
		return p, nil
	case <-r.ctx.Done():
		return nil, io.EOF
	}
}

// Close ends the requester; a request in progress is given up.
func (r *natsRequester) Close() error {
	r.cancel()
	return nil
}

// natsRoute is a client's IPC_NETWORK route to a NATS service: its own
// connection to NATS, ended with the client's connection.
type natsRoute struct {
	*natsRequester
	once sync.Once
}

// dialNATS connects a client to the NATS service of e, with the
// credentials named by $NATS_CREDS, $NATS_CERT, $NATS_KEY and $NATS_CA
// (the nats command-line client's variables). The client's own timeout
// bounds its requests.
func (e Endpoint) dialNATS(ctx context.Context, opts EndpointOptions) (ipc.MessageConn, error) {
	if wildcard(e.Path) {
		return nil, fmt.Errorf("cannot send requests to %s: its subject has a wildcard", e.natsString())
	}
	nc, err := e.natsConnect(opts.NATS.Conn, "ipcctl client of "+e.natsString(), nats.RetryOnFailedConnect(false), nats.MaxReconnects(-1))
	if err != nil {
		return nil, err
	}
	// The route lives as long as the client's connection, not the dial's
	// context.
	r := newNATSRequester(context.WithoutCancel(ctx), nc, e.Path, opts.NATS.Timeout, nil)
	return &natsRoute{natsRequester: r}, nil
}

// natsConn makes a route's requester a Conn for the client: a socket
// pair, one end the client's, the other relayed to NATS one request at a
// time. A request that fails closes the client's connection, as a
// service that refuses a client does.
func natsConn(mc ipc.MessageConn, max int) (*ipc.Conn, error) {
	inner, outer, err := socketPair()
	if err != nil {
		mc.Close()
		return nil, err
	}
	go func() {
		peer := ipc.NewConn(outer, max)
		defer mc.Close()
		defer peer.Close()
		for {
			p, err := peer.ReadMessage()
			if err != nil || mc.WriteMessage(p) != nil {
				return
			}
			reply, err := mc.ReadMessage()
			if err != nil || peer.WriteMessage(reply) != nil {
				return
			}
		}
	}()
	return ipc.NewConn(inner, max), nil
}

// Close ends the route and its connection to NATS.
func (r *natsRoute) Close() error {
	r.once.Do(func() {
		r.natsRequester.Close()
		r.nc.Close()
	})
	return nil
}

// routeNATSOptions are the settings of an IPC_NETWORK route to NATS:
// the credentials and TLS files of the nats command-line client's
// variables, $NATS_CREDS, $NATS_CERT, $NATS_KEY and $NATS_CA.
func routeNATSOptions() NATSOptions {
	return NATSOptions{Conn: natsopt.Options{
		Creds:   os.Getenv(natsopt.EnvCreds),
		TLSCert: os.Getenv(natsopt.EnvCert),
		TLSKey:  os.Getenv(natsopt.EnvKey),
		TLSCA:   os.Getenv(natsopt.EnvCA),
	}}
}

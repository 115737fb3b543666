package bridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"

	"github.com/ipcctl/ipcctl/ipc"
	"golang.org/x/sys/unix"
)

// ServeListener listens on the endpoint (tcp://, tls://, ws://, udp:// or
// http://) and
// turns each client into a Unix connection that carries LibIPC frames,
// for a Loop to serve with ListenOn as it serves a service's clients: the
// client's messages, in the endpoint's framing, are relayed over a socket
// pair. The connections' RemoteAddr is the client's address.
func (e Endpoint) ServeListener(opts EndpointOptions) (net.Listener, error) {
	if e.Scheme == "unix" {
		return nil, fmt.Errorf("cannot serve %s as a network endpoint", e)
	}
	ln, err := e.Listen(opts)
	if err != nil {
		return nil, err
	}
	return relayOn(ln, opts), nil
}

// ServeListenerOn is ServeListener on ln, a TCP socket listening already
// (one a service manager passed), in place of one of its own.
func (e Endpoint) ServeListenerOn(ln net.Listener, opts EndpointOptions) (net.Listener, error) {
	if e.Scheme == "unix" {
		return nil, fmt.Errorf("cannot serve %s as a network endpoint", e)
	}
	bl, err := e.ListenOn(ln, opts)
	if err != nil {
		return nil, err
	}
	return relayOn(bl, opts), nil
}

// relayOn relays the clients of ln over socket pairs.
func relayOn(ln Listener, opts EndpointOptions) *relayListener {
	ctx, cancel := context.WithCancel(context.Background())
	return &relayListener{ln: ln, max: opts.MaxSize, ctx: ctx, cancel: cancel}
}

// relayListener accepts the clients of a bridge Listener as socket pairs.
type relayListener struct {
	ln     Listener
	max    int
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Accept returns the loop's end of the next client's socket pair.
func (l *relayListener) Accept() (net.Conn, error) {
	mc, remote, err := l.acceptClient()
	if err != nil {
		return nil, err
	}
	inner, outer, err := socketPair()
	if err != nil {
		mc.Close()
		return nil, err
	}
	pc := &peerConn{UnixConn: inner, remote: remote, client: mc, ended: make(chan struct{})}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		pc.relay(l.ctx, mc, ipc.NewConn(outer, l.max))
	}()
	return pc, nil
}

// acceptClient takes the next client and its address.
func (l *relayListener) acceptClient() (ipc.MessageConn, net.Addr, error) {
	if sl, ok := l.ln.(*streamListener); ok {
		nc, err := sl.acceptStream()
		if err != nil {
			return nil, nil, err
		}
		return sl.framing.Wrap(nc, sl.max), nc.RemoteAddr(), nil
	}
	mc, err := l.ln.Accept()
	if err != nil {
		return nil, nil, err
	}
	var remote net.Addr
	switch c := mc.(type) {
	case *WSConn:
		if a, err := net.ResolveTCPAddr("tcp", c.remote); err == nil {
			remote = a
		}
	case interface{ RemoteAddr() net.Addr }:
		remote = c.RemoteAddr()
	}
	return mc, remote, nil
}

// Close stops listening and ends the relays.
func (l *relayListener) Close() error {
	err := l.ln.Close()
	l.cancel()
	l.wg.Wait()
	return err
}

// Addr is the address listened on.
func (l *relayListener) Addr() net.Addr { return endpointAddr(l.ln.Addr()) }

// endpointAddr is an endpoint string as a net.Addr.
type endpointAddr string

func (a endpointAddr) Network() string { return "endpoint" }
func (a endpointAddr) String() string  { return string(a) }

// peerConn is the loop's end of a socket pair, that tells the client's
// address as its RemoteAddr.
type peerConn struct {
	*net.UnixConn
	remote net.Addr
	client ipc.MessageConn
	ended  chan struct{}
	sent   atomic.Int64
}

// relay passes messages between the client and the service's end of the
// socket pair until the service closes it, the client goes away, or ctx
// ends. A client that ends its side cleanly (a shell pipe at its end)
// still gets every reply until the service closes: the service learns of
// the end from Ended, not from an end of stream, which the loop would
// take for a disconnection.
func (c *peerConn) relay(ctx context.Context, client, service ipc.MessageConn) {
	closeBoth := func() {
		client.Close()
		service.Close()
	}
	defer closeBoth()
	defer context.AfterFunc(ctx, closeBoth)()
	in, out := make(chan error, 1), make(chan error, 1)
	go func() { in <- c.passIn(client, service) }()
	go func() { out <- pass(service, client, nil) }()
	select {
	case err := <-in:
		if err != io.EOF {
			return
		}
		close(c.ended)
		<-out
	case <-out:
	}
}

// passIn passes the client's messages to the service, counting them.
func (c *peerConn) passIn(client, service ipc.MessageConn) error {
	for {
		p, err := client.ReadMessage()
		if err != nil {
			return err
		}
		if err := service.WriteMessage(p); err != nil {
			return writeError{err}
		}
		c.sent.Add(1)
	}
}

// Ended is closed once the client has ended its side cleanly, having
// sent Sent messages: once the service has read and answered those, it
// may close the connection, as the client awaits nothing else.
func (c *peerConn) Ended() <-chan struct{} { return c.ended }

// Sent is the number of messages passed from the client to the service.
func (c *peerConn) Sent() int64 { return c.sent.Load() }

// RemoteAddr is the network client's address (nil when unknown).
func (c *peerConn) RemoteAddr() net.Addr { return c.remote }

// Env is what the client's endpoint tells a process of the client
// besides its address: the method and query of an HTTP request.
func (c *peerConn) Env() []string {
	if e, ok := c.client.(interface{ Env() []string }); ok {
		return e.Env()
	}
	return nil
}

// Fail tells the client why the service will not answer it, where its
// endpoint can say it (an HTTP request is answered 500 with err).
func (c *peerConn) Fail(err error) {
	if f, ok := c.client.(interface{ Fail(error) }); ok {
		f.Fail(err)
	}
}

// socketPair returns the two ends of a new Unix stream socket pair.
func socketPair() (*net.UnixConn, *net.UnixConn, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	a, aerr := fileConn(fds[0])
	b, berr := fileConn(fds[1])
	if err := errors.Join(aerr, berr); err != nil {
		if a != nil {
			a.Close()
		}
		if b != nil {
			b.Close()
		}
		return nil, nil, err
	}
	return a, b, nil
}

// fileConn makes a UnixConn of fd, which it takes.
func fileConn(fd int) (*net.UnixConn, error) {
	f := os.NewFile(uintptr(fd), "socketpair")
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil, err
	}
	return c.(*net.UnixConn), nil
}

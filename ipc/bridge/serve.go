package bridge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

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

// serveLinger is how long a client that ended its side is still sent
// the service's replies, from the last one.
const serveLinger = 5 * time.Second

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
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		// A client that half-closes (a shell pipe at its end) still gets
		// the replies that follow within serveLinger of each other.
		b := &Bridge{Linger: serveLinger}
		b.passBoth(l.ctx, mc, ipc.NewConn(outer, l.max))
	}()
	return &peerConn{UnixConn: inner, remote: remote, client: mc}, nil
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
}

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

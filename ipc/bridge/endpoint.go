package bridge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/ipcctl/ipcctl/ipc"
)

// Endpoint is one end of a bridge: a local service, or a TCP, TLS,
// WebSocket, UDP or HTTP address. ParseEndpoint makes one from what a
// user types.
type Endpoint struct {
	// Scheme is "unix", "tcp", "tls", "ws", "wss", "udp" or "http".
	Scheme string
	// Name is the service name, or for "unix" an absolute socket path.
	Name string
	// Host is HOST:PORT for the network schemes.
	Host string
	// Path is the WebSocket or HTTP path ("/" by default); for "tcp" and "tls" it
	// is the remote service asked for with TCPd's handshake ("" for none).
	Path string
	// Framing cuts a "tcp" or "tls" stream into messages. It is set by a
	// "?framing=" query, else by EndpointOptions.Framing.
	Framing *Framing
}

// EndpointOptions are what Listen and Dial need besides the endpoint.
type EndpointOptions struct {
	// RunDir is the run directory for service names.
	RunDir string
	// MaxSize is the largest message accepted (DefaultMaxSize when 0).
	MaxSize int
	// TrustOwners are the users whose local services' sockets may be
	// dialled besides the run directory's owner, the caller and root
	// (ipc.DialOptions.TrustOwners; nil reads $IPC_TRUST_OWNER).
	TrustOwners []int
	// Framing is the framing of "tcp" and "tls" endpoints that name none.
	Framing Framing
	// TLS names the certificate files of "tls" and "wss" endpoints.
	TLS TLSFiles
	// WS sets up "ws" and "wss" endpoints.
	WS WSOptions
	// UDP sets up "udp" endpoints.
	UDP UDPOptions
	// HTTP sets up "http" endpoints.
	HTTP HTTPOptions
	// Report, when set, receives the errors that end no connection: a
	// datagram dropped, a request refused.
	Report func(error)
	// NATS sets up "nats" endpoints.
	NATS NATSOptions
}

// Listener accepts the connections of a listening endpoint.
type Listener interface {
	// Accept returns the next connection; ErrClosed once closed.
	Accept() (ipc.MessageConn, error)
	// Close stops listening (and removes a service's socket).
	Close() error
	// Addr tells where the listener is, as an endpoint string.
	Addr() string
}

var discardLog = log.New(io.Discard, "", 0)

// ParseEndpoint reads an endpoint: NAME or unix:NAME (a service in the run
// directory), unix:/PATH (a socket path), tcp://HOST:PORT[/SERVICE],
// tls://HOST:PORT[/SERVICE], ws://HOST:PORT[/PATH] or wss://,
// udp://HOST:PORT, http://HOST:PORT[/PATH] and
// nats://HOST:PORT[,HOST:PORT...]/SUBJECT (a NATS subject). A "tcp" or
// "tls" endpoint may end in ?framing=ipc|line|raw|json.
func ParseEndpoint(s string) (Endpoint, error) {
	if rest, ok := strings.CutPrefix(s, "unix:"); ok {
		return parseUnix(rest)
	}
	if !strings.Contains(s, "://") {
		return parseUnix(s)
	}
	if strings.HasPrefix(s, "nats://") {
		return parseNATS(s)
	}
	u, err := url.Parse(s)
	if err != nil {
		return Endpoint{}, fmt.Errorf("bad endpoint %q: %v", s, err)
	}
	if u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return Endpoint{}, fmt.Errorf("bad endpoint %q: expected SCHEME://HOST:PORT[/PATH]", s)
	}
	if _, port, err := net.SplitHostPort(u.Host); err != nil || port == "" {
		return Endpoint{}, fmt.Errorf("bad endpoint %q: expected HOST:PORT after %s://", s, u.Scheme)
	}
	e := Endpoint{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	switch u.Scheme {
	case "tcp", "tls":
		return e.withStreamParts(s, u)
	case "ws", "wss", "http":
		if e.Path == "" {
			e.Path = "/"
		}
		if u.RawQuery != "" {
			return Endpoint{}, fmt.Errorf("bad endpoint %q: a %s:// endpoint takes no query", s, u.Scheme)
		}
		return e, nil
	case "udp":
		if e.Path != "" || u.RawQuery != "" {
			return Endpoint{}, fmt.Errorf("bad endpoint %q: a udp:// endpoint takes no path or query (one datagram is one message)", s)
		}
		return e, nil
	}
	return Endpoint{}, fmt.Errorf("bad endpoint %q: unknown scheme %q (use unix:, tcp://, tls://, ws://, wss://, udp://, http:// or nats://)", s, u.Scheme)
}

// parseUnix reads a service name or an absolute socket path.
func parseUnix(s string) (Endpoint, error) {
	if strings.HasPrefix(s, "/") {
		return Endpoint{Scheme: "unix", Name: filepath.Clean(s)}, nil
	}
	if err := ipc.CheckName(s); err != nil {
		return Endpoint{}, err
	}
	return Endpoint{Scheme: "unix", Name: s}, nil
}

// withStreamParts reads a tcp or tls endpoint's service path and query.
func (e Endpoint) withStreamParts(s string, u *url.URL) (Endpoint, error) {
	e.Path = strings.TrimPrefix(e.Path, "/")
	if e.Path != "" {
		if err := ipc.CheckName(e.Path); err != nil {
			return Endpoint{}, fmt.Errorf("bad endpoint %q: %v", s, err)
		}
	}
	q := u.Query()
	for k := range q {
		if k != "framing" {
			return Endpoint{}, fmt.Errorf("bad endpoint %q: unknown parameter %q", s, k)
		}
	}
	if v := q.Get("framing"); v != "" {
		f, err := ParseFraming(v)
		if err != nil {
			return Endpoint{}, fmt.Errorf("bad endpoint %q: %v", s, err)
		}
		e.Framing = &f
	}
	return e, nil
}

// String returns the endpoint as ParseEndpoint reads it.
func (e Endpoint) String() string {
	switch e.Scheme {
	case "unix":
		if strings.HasPrefix(e.Name, "/") {
			return "unix:" + e.Name
		}
		return e.Name
	case "nats":
		return e.natsString()
	case "tcp", "tls":
		s := e.Scheme + "://" + e.Host
		if e.Path != "" {
			s += "/" + url.PathEscape(e.Path)
		}
		if e.Framing != nil {
			s += "?framing=" + e.Framing.String()
		}
		return s
	}
	return e.Scheme + "://" + e.Host + (&url.URL{Path: e.Path}).EscapedPath()
}

// framing returns the endpoint's own framing, else the default.
func (e Endpoint) framing(opts EndpointOptions) Framing {
	if e.Framing != nil {
		return *e.Framing
	}
	return opts.Framing
}

// Listen starts accepting connections on the endpoint. A service name
// becomes a service in the run directory, with its lock file; a stale
// socket is replaced and a live one left alone (ErrAlreadyRunning).
func (e Endpoint) Listen(opts EndpointOptions) (Listener, error) {
	switch e.Scheme {
	case "unix":
		return listenService(e.Name, opts)
	case "udp":
		return listenUDP(e, opts)
	case "nats":
		return nil, fmt.Errorf("cannot listen on %s: a NATS subject is answered by a switch to a service", e)
	}
	if !e.hasPath() && e.Path != "" {
		return nil, fmt.Errorf("cannot listen on %s: a listening endpoint takes no service path", e)
	}
	conf, err := e.serverTLS(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", e.Host)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w", e, err)
	}
	return e.serveOn(ln, conf, opts), nil
}

// ListenOn accepts the endpoint's connections on ln, a listening socket
// made elsewhere (one a service manager passed, say) in place of the one
// Listen would make: a Unix socket for a service (its socket file is left
// in place at Close), a TCP socket for the other schemes.
func (e Endpoint) ListenOn(ln net.Listener, opts EndpointOptions) (Listener, error) {
	if e.Scheme == "unix" {
		name := e.Name
		if strings.HasPrefix(name, "/") {
			name = filepath.Base(name)
		}
		svc, err := ipc.Adopt(name, ln)
		if err != nil {
			return nil, err
		}
		return &serviceListener{svc: svc, max: opts.MaxSize}, nil
	}
	if e.Scheme == "udp" {
		return nil, fmt.Errorf("cannot serve %s on a passed socket: take udp:// sockets from no service manager", e)
	}
	if e.Scheme == "nats" {
		return nil, fmt.Errorf("cannot serve %s on a passed socket: it is a NATS subject", e)
	}
	if !e.hasPath() && e.Path != "" {
		return nil, fmt.Errorf("cannot listen on %s: a listening endpoint takes no service path", e)
	}
	if _, ok := ln.Addr().(*net.TCPAddr); !ok {
		return nil, fmt.Errorf("cannot serve %s on a %s socket", e, ln.Addr().Network())
	}
	conf, err := e.serverTLS(opts)
	if err != nil {
		return nil, err
	}
	return e.serveOn(ln, conf, opts), nil
}

// hasPath reports whether the endpoint's path is where it listens.
func (e Endpoint) hasPath() bool {
	return e.Scheme == "ws" || e.Scheme == "wss" || e.Scheme == "http"
}

// serveOn makes the endpoint's Listener of a TCP listener.
func (e Endpoint) serveOn(ln net.Listener, conf *tls.Config, opts EndpointOptions) Listener {
	if conf != nil {
		ln = tls.NewListener(ln, conf)
	}
	switch e.Scheme {
	case "ws", "wss":
		return listenWS(ln, e.Scheme, e.Path, opts.MaxSize, opts.WS)
	case "http":
		return listenHTTP(ln, e.Path, opts)
	}
	return &streamListener{ln: ln, scheme: e.Scheme, framing: e.framing(opts), max: opts.MaxSize}
}

// serverTLS is the server's TLS configuration for tls and wss, else nil.
func (e Endpoint) serverTLS(opts EndpointOptions) (*tls.Config, error) {
	if e.Scheme != "tls" && e.Scheme != "wss" {
		return nil, nil
	}
	return opts.TLS.ServerConfig()
}

// Dial connects to the endpoint. A service is always the local one:
// IPC_NETWORK does not apply, so a bridge cannot loop back to itself
// through a route. A tcp or tls endpoint with a service path speaks TCPd's
// handshake first.
func (e Endpoint) Dial(ctx context.Context, opts EndpointOptions) (ipc.MessageConn, error) {
	switch e.Scheme {
	case "unix":
		return e.dialUnix(ctx, opts)
	case "udp":
		return dialUDP(e, opts)
	case "http":
		return dialHTTP(e, opts), nil
	case "nats":
		return e.dialNATS(ctx, opts)
	case "ws", "wss":
		var conf *tls.Config
		if e.Scheme == "wss" {
			c, err := opts.TLS.ClientConfig()
			if err != nil {
				return nil, err
			}
			conf = c
		}
		return DialWS(ctx, e.String(), opts.MaxSize, opts.WS, conf)
	}
	nc, err := e.dialStream(ctx, opts.TLS)
	if err != nil {
		return nil, err
	}
	if e.Path != "" {
		return tcpdClient(ctx, nc, e.Path, opts.MaxSize)
	}
	return e.framing(opts).Wrap(nc, opts.MaxSize), nil
}

// dialUnix connects to a local service or socket path.
func (e Endpoint) dialUnix(ctx context.Context, opts EndpointOptions) (*ipc.Conn, error) {
	if strings.HasPrefix(e.Name, "/") {
		return ipc.DialPath(ctx, e.Name, opts.MaxSize)
	}
	return ipc.Dial(ctx, e.Name, ipc.DialOptions{RunDir: opts.RunDir, MaxSize: opts.MaxSize, TrustOwners: opts.TrustOwners})
}

// dialStream opens a TCP connection, under TLS for tls.
func (e Endpoint) dialStream(ctx context.Context, files TLSFiles) (net.Conn, error) {
	var d interface {
		DialContext(ctx context.Context, network, addr string) (net.Conn, error)
	} = &net.Dialer{}
	if e.Scheme == "tls" {
		conf, err := files.ClientConfig()
		if err != nil {
			return nil, err
		}
		d = &tls.Dialer{Config: conf}
	}
	nc, err := d.DialContext(ctx, "tcp", e.Host)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot connect to %s: %v", ipc.ErrRefused, e.Scheme+"://"+e.Host, err)
	}
	return nc, nil
}

// streamListener accepts TCP or TLS clients with a framing.
type streamListener struct {
	ln      net.Listener
	scheme  string
	framing Framing
	max     int
}

// Accept returns the next client with the listener's framing.
func (l *streamListener) Accept() (ipc.MessageConn, error) {
	nc, err := l.acceptStream()
	if err != nil {
		return nil, err
	}
	return l.framing.Wrap(nc, l.max), nil
}

// acceptStream returns the next client's stream, unframed.
func (l *streamListener) acceptStream() (net.Conn, error) {
	nc, err := l.ln.Accept()
	if err != nil {
		return nil, acceptError(err)
	}
	return nc, nil
}

func (l *streamListener) Close() error { return l.ln.Close() }

func (l *streamListener) Addr() string { return l.scheme + "://" + l.ln.Addr().String() }

// serviceListener accepts a service's clients as Conns, outside any Loop.
type serviceListener struct {
	svc *ipc.Service
	max int
}

// listenService becomes service name (or the socket at an absolute path).
func listenService(name string, opts EndpointOptions) (*serviceListener, error) {
	path := name
	if !strings.HasPrefix(name, "/") {
		dir := ipc.ResolveRunDir(opts.RunDir)
		if err := ipc.PrepareRunDir(dir); err != nil {
			return nil, err
		}
		var err error
		if path, err = ipc.SocketPath(dir, name); err != nil {
			return nil, err
		}
	}
	svc, err := ipc.Bind(name, path)
	if err != nil {
		return nil, err
	}
	return &serviceListener{svc: svc, max: opts.MaxSize}, nil
}

// Accept returns the next client of the service.
func (l *serviceListener) Accept() (ipc.MessageConn, error) {
	return l.svc.Accept(l.max)
}

func (l *serviceListener) Close() error { return l.svc.Close() }

func (l *serviceListener) Addr() string { return l.svc.Path() }

// acceptError makes a closed listener's error ErrClosed.
func acceptError(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return ipc.ErrClosed
	}
	return err
}

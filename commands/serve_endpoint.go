package commands

import (
	"errors"
	"net"
	"strconv"
	"strings"

	"github.com/ipcctl/ipcctl/ipc"
	"github.com/ipcctl/ipcctl/ipc/activation"
	"github.com/ipcctl/ipcctl/ipc/bridge"
	"github.com/urfave/cli/v2"
)

// serveEndpointFlags are the flags of serve on a network endpoint.
func serveEndpointFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "framing", Usage: "framing of a tcp:// or tls:// NAME: `ipc|line|raw|json`", Value: "ipc"},
		&cli.StringFlag{Name: "cert", Usage: "TLS certificate `FILE` (PEM) of a tls:// or wss:// NAME", TakesFile: true},
		&cli.StringFlag{Name: "key", Usage: "TLS private key `FILE` (PEM)", TakesFile: true},
		&cli.StringFlag{Name: "ca", Usage: "require client certificates signed by the CA in `FILE`", TakesFile: true},
		flagHTTPTimeout,
	}
}

// flagHTTPTimeout bounds how long an http:// request waits for its reply.
var flagHTTPTimeout = &cli.DurationFlag{Name: "http-timeout", Usage: "answer an http:// request 504 when no reply came within `DUR`", Value: bridge.DefaultHTTPTimeout}

const serveEndpointDescription = "NAME may also be a network endpoint of switch: tcp://HOST:PORT, " +
	"tls://HOST:PORT (--cert, --key, --ca), ws://HOST:PORT/PATH (wss:// under TLS), " +
	"udp://HOST:PORT or http://HOST:PORT/PATH, in every mode. The clients of tcp:// and tls:// " +
	"speak --framing (ipc, line, raw or json, as for switch); a WebSocket carries one message per " +
	"WebSocket message. Each UDP sender address is a client, each of its datagrams a message and " +
	"each reply a datagram back to it; a sender silent both ways for --idle-timeout (default 30s " +
	"for UDP) is disconnected. Each HTTP request to PATH is a client whose one message is the " +
	"body (POST; GET is an empty message) and whose first reply is the response, 200; a handler " +
	"that fails is a 500 with its error as the body, no reply within --http-timeout a 504 (see " +
	"switch for the other statuses). So \"ipcctl serve ws://0.0.0.0:8080/ --exec CMD\" is " +
	"websocketd, \"ipcctl serve tcp://127.0.0.1:7000 --framing line --handler CMD\" a line " +
	"service and \"ipcctl serve http://127.0.0.1:8080/ --handler CMD\" a web handler. The listening " +
	"event gives endpoint= (the port actually bound, for :0), a connection event the client's " +
	"address as peer=, and the processes get, in UCSPI style, PROTO=TCP, TCPREMOTEIP, " +
	"TCPREMOTEPORT and IPCCLIENT (PROTO=UDP, UDPREMOTEIP and UDPREMOTEPORT for UDP), and for a " +
	"WebSocket or HTTP also websocketd's REMOTE_ADDR and REMOTE_PORT, with REQUEST_METHOD and " +
	"QUERY_STRING for HTTP. --allow-uid and --allow-gid do not apply to network clients. A " +
	"network client that ends its side (echo hi | nc -N HOST PORT) still gets every reply until " +
	"the service closes the connection: --handler closes it once all its messages are answered, " +
	"--exec closes the process's stdin once they are written, a stream script closes it with " +
	"close ID; --idle-timeout bounds the wait.\n\n" +
	"NAME may be unix:/PATH too: the service is then the socket at that absolute path, outside " +
	"the run directory, named after its last element, and kept as safely as one in the run " +
	"directory: the directory must exist and not be a symlink nor writable by others (unless " +
	"yours or root's), LibIPC's lock file is PATH.lock, a live socket is refused, a stale one " +
	"replaced, anything else left alone, and at exit the socket is removed only if it is still " +
	"the one serve made. Clients reach it with IPC_NETWORK=\"NAME unix:/PATH\"."

// serveEndpointOf reads NAME: a service name, or a network endpoint,
// with the options to serve it.
func serveEndpointOf(c *cli.Context, g Globals, name string) (*servedEndpoint, error) {
	if !strings.Contains(name, "://") && !strings.HasPrefix(name, "unix:") {
		if _, err := ipc.SocketPath(ipc.ResolveRunDir(g.RunDir), name); err != nil {
			return nil, UsageErrorf("%v", err)
		}
		return nil, localFlags(c)
	}
	e, err := bridge.ParseEndpoint(name)
	if err != nil {
		return nil, UsageErrorf("%v", err)
	}
	if e.Scheme == "unix" {
		return &servedEndpoint{e: e}, localFlags(c)
	}
	if c.IsSet("allow-uid") || c.IsSet("allow-gid") {
		return nil, UsageErrorf("--allow-uid and --allow-gid do not apply to %s: its clients are not local", name)
	}
	if err := endpointFlags(c, e); err != nil {
		return nil, err
	}
	framing, err := bridge.ParseFraming(c.String("framing"))
	if err != nil {
		return nil, UsageErrorf("--framing: %v", err)
	}
	if c.Duration("http-timeout") <= 0 {
		return nil, UsageErrorf("--http-timeout must be more than 0")
	}
	opts := bridge.EndpointOptions{
		RunDir:  g.RunDir,
		Framing: framing,
		TLS:     bridge.TLSFiles{Cert: c.String("cert"), Key: c.String("key"), CA: c.String("ca")},
		UDP:     bridge.UDPOptions{Idle: c.Duration("idle-timeout"), MaxPeers: c.Int("max-clients")},
		HTTP:    bridge.HTTPOptions{Timeout: c.Duration("http-timeout")},
	}
	if c.IsSet("max-clients") {
		opts.HTTP.MaxRequests = c.Int("max-clients")
	}
	return &servedEndpoint{e: e, opts: opts}, nil
}

// localFlags refuses the flags of network endpoints for a local service.
func localFlags(c *cli.Context) error {
	for _, f := range []string{"framing", "cert", "key", "ca", "http-timeout"} {
		if c.IsSet(f) {
			return UsageErrorf("--%s goes with a network endpoint (tcp://, tls://, ws://, udp://, http://)", f)
		}
	}
	return nil
}

// endpointFlags refuses the flags that endpoint e would ignore.
func endpointFlags(c *cli.Context, e bridge.Endpoint) error {
	tls := e.Scheme == "tls" || e.Scheme == "wss"
	switch {
	case c.IsSet("framing") && e.Scheme != "tcp" && e.Scheme != "tls":
		return UsageErrorf("--framing goes with tcp:// and tls:// (a %s:// endpoint has its own message boundaries)", e.Scheme)
	case !tls && (c.IsSet("cert") || c.IsSet("key") || c.IsSet("ca")):
		return UsageErrorf("--cert, --key and --ca go with tls:// and wss://, not %s://", e.Scheme)
	case c.IsSet("http-timeout") && e.Scheme != "http":
		return UsageErrorf("--http-timeout goes with http://, not %s://", e.Scheme)
	}
	return nil
}

// servedEndpoint is a network endpoint serve listens on, or a socket
// path (unix:/PATH).
type servedEndpoint struct {
	e    bridge.Endpoint
	opts bridge.EndpointOptions
}

// listenEndpoint serves the network endpoint NAME.
func (s *server) listenEndpoint(opts ipc.ServiceOptions) (*ipc.Service, error) {
	ep := s.cfg.endpoint
	ep.opts.MaxSize = s.cfg.maxSize
	ep.opts.Report = func(err error) { s.report(nil, err.Error()) }
	ln, err := ep.serveListener()
	if err != nil {
		return nil, err
	}
	svc, err := s.loop.ListenOn(ep.e.Scheme, ln, opts)
	if err != nil {
		ln.Close()
		return nil, err
	}
	return svc, nil
}

// serveListener listens on the endpoint: on the TCP socket the service
// manager passed for it (socket activation), else on a socket of its own.
func (ep *servedEndpoint) serveListener() (net.Listener, error) {
	if ep.e.Scheme == "udp" {
		return ep.e.ServeListener(ep.opts)
	}
	sock, err := activation.ForAddr(ep.e.Host)
	switch {
	case err == nil:
		return ep.e.ServeListenerOn(sock.Listener, ep.opts)
	case errors.Is(err, activation.ErrNotPassed):
		return ep.e.ServeListener(ep.opts)
	}
	return nil, err
}

// peerAddr is a network client's address, nil for a local one.
func peerAddr(c *ipc.Conn) net.Addr {
	switch a := c.NetConn().RemoteAddr().(type) {
	case *net.TCPAddr:
		return a
	case *net.UDPAddr:
		return a
	}
	return nil
}

// networkEnv describes a network client to a process in UCSPI style
// (nil for a local client): PROTO=TCP or UDP, PROTOREMOTEIP and
// PROTOREMOTEPORT, and for a WebSocket or an HTTP request the CGI
// variables websocketd sets.
func (s *server) networkEnv(c *ipc.Conn) []string {
	proto, ip, port := "TCP", "", 0
	switch a := c.NetConn().RemoteAddr().(type) {
	case *net.TCPAddr:
		ip, port = a.IP.String(), a.Port
	case *net.UDPAddr:
		proto, ip, port = "UDP", a.IP.String(), a.Port
	default:
		return nil
	}
	env := []string{
		"PROTO=" + proto,
		proto + "REMOTEIP=" + ip,
		proto + "REMOTEPORT=" + strconv.Itoa(port),
		"IPCCLIENT=" + clientID(c),
	}
	switch s.cfg.endpoint.e.Scheme {
	case "ws", "wss", "http":
		env = append(env, "REMOTE_ADDR="+ip, "REMOTE_PORT="+strconv.Itoa(port))
	}
	if e, ok := c.NetConn().(interface{ Env() []string }); ok {
		env = append(env, e.Env()...)
	}
	return env
}

// tellClient tells a network client why it gets no reply, where its
// endpoint can say it (an HTTP request is answered 500 with the text).
func tellClient(c *ipc.Conn, text string) {
	if f, ok := c.NetConn().(interface{ Fail(error) }); ok {
		f.Fail(errors.New(text))
	}
}

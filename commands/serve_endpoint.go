package commands

import (
	"net"
	"strconv"
	"strings"

	"github.com/ipcctl/ipcctl/ipc"
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
	}
}

const serveEndpointDescription = "NAME may also be a network endpoint of switch: tcp://HOST:PORT, " +
	"tls://HOST:PORT (--cert, --key, --ca) or ws://HOST:PORT/PATH (wss:// under TLS), in every " +
	"mode. The clients of tcp:// and tls:// speak --framing (ipc, line, raw or json, as for " +
	"switch); a WebSocket carries one message per WebSocket message. So \"ipcctl serve " +
	"ws://0.0.0.0:8080/ --exec CMD\" is websocketd and \"ipcctl serve tcp://127.0.0.1:7000 " +
	"--framing line --handler CMD\" a line service. The listening event gives endpoint= (the " +
	"port actually bound, for :0), a connection event the client's address as peer=, and the " +
	"processes get, in UCSPI style, PROTO=TCP, TCPREMOTEIP, TCPREMOTEPORT and IPCCLIENT, " +
	"and for a WebSocket also websocketd's REMOTE_ADDR and REMOTE_PORT. --allow-uid and --allow-gid do not apply to network clients."

// serveEndpointOf reads NAME: a service name, or a network endpoint,
// with the options to serve it.
func serveEndpointOf(c *cli.Context, g Globals, name string) (*servedEndpoint, error) {
	if !strings.Contains(name, "://") {
		if _, err := ipc.SocketPath(ipc.ResolveRunDir(g.RunDir), name); err != nil {
			return nil, UsageErrorf("%v", err)
		}
		for _, f := range []string{"framing", "cert", "key", "ca"} {
			if c.IsSet(f) {
				return nil, UsageErrorf("--%s goes with a network endpoint (tcp://, tls://, ws://)", f)
			}
		}
		return nil, nil
	}
	e, err := bridge.ParseEndpoint(name)
	if err != nil {
		return nil, UsageErrorf("%v", err)
	}
	if e.Scheme == "unix" {
		return nil, UsageErrorf("serve %s: use the service name, or a network endpoint", name)
	}
	if c.IsSet("allow-uid") || c.IsSet("allow-gid") {
		return nil, UsageErrorf("--allow-uid and --allow-gid do not apply to %s: its clients are not local", name)
	}
	framing, err := bridge.ParseFraming(c.String("framing"))
	if err != nil {
		return nil, UsageErrorf("--framing: %v", err)
	}
	return &servedEndpoint{e: e, opts: bridge.EndpointOptions{
		RunDir:  g.RunDir,
		Framing: framing,
		TLS:     bridge.TLSFiles{Cert: c.String("cert"), Key: c.String("key"), CA: c.String("ca")},
	}}, nil
}

// servedEndpoint is a network endpoint serve listens on.
type servedEndpoint struct {
	e    bridge.Endpoint
	opts bridge.EndpointOptions
}

// listenEndpoint serves the network endpoint NAME.
func (s *server) listenEndpoint(opts ipc.ServiceOptions) (*ipc.Service, error) {
	ep := s.cfg.endpoint
	ep.opts.MaxSize = s.cfg.maxSize
	ln, err := ep.e.ServeListener(ep.opts)
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

// peerAddr is a network client's address, nil for a local one.
func peerAddr(c *ipc.Conn) *net.TCPAddr {
	a, _ := c.NetConn().RemoteAddr().(*net.TCPAddr)
	return a
}

// networkEnv describes a network client to a process in UCSPI style
// (nil for a local client).
func (s *server) networkEnv(c *ipc.Conn) []string {
	a := peerAddr(c)
	if a == nil {
		return nil
	}
	env := []string{
		"PROTO=TCP",
		"TCPREMOTEIP=" + a.IP.String(),
		"TCPREMOTEPORT=" + strconv.Itoa(a.Port),
		"IPCCLIENT=" + clientID(c),
	}
	if sc := s.cfg.endpoint.e.Scheme; sc == "ws" || sc == "wss" {
		env = append(env, "REMOTE_ADDR="+a.IP.String(), "REMOTE_PORT="+strconv.Itoa(a.Port))
	}
	return env
}

package bridge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
	"golang.org/x/sys/unix"
)

// Role is what a Bridge does with each client it accepts.
type Role int

const (
	// RoleSwitch pairs each client with a new connection to To (or, with
	// To nil on tcp://, is a TCPd).
	RoleSwitch Role = iota
	// RoleIPCd is LibIPC's ipcd, the local service "ipc": a client sends
	// one frame "NAME;NETWORK" (NETWORK is its $IPC_NETWORK); the bridge
	// connects to NAME, through NETWORK's route for it if there is one,
	// and hands the connected descriptor back with SCM_RIGHTS and the raw
	// bytes "ok", then closes. It answers "ne" when NAME cannot be
	// reached.
	RoleIPCd
	// RoleTCPdOut is LibIPC's outgoing tcpd, the local service "tcp": a
	// client sends one frame "tcp://HOST:PORT/SERVICE"; the bridge
	// connects there, asks the TCPd for SERVICE, answers a framed "ok"
	// (or "ne" and closes) and relays LibIPC frames both ways.
	RoleTCPdOut
)

// The services LibIPC's daemons are.
const (
	IPCdService    = "ipc"
	TCPdOutService = "tcp"
)

// runIPCd answers one client of ipcd.
func (b *Bridge) runIPCd(ctx context.Context, id uint64, a ipc.MessageConn) {
	defer a.Close()
	c, ok := a.(*ipc.Conn)
	uc, isUnix := c.NetConn().(*net.UnixConn)
	if !ok || !isUnix {
		b.end(id, "", errors.New("ipcd serves local clients only"))
		return
	}
	name, to, err := b.ipcdDial(ctx, c)
	if err != nil {
		uc.Write(tcpdNE)
		b.end(id, name, fmt.Errorf("ipcd: %w (answered ne)", err))
		return
	}
	defer to.Close()
	err = passConn(uc, to)
	b.end(id, name, err)
}

// ipcdDial reads a client's request and connects to what it names.
func (b *Bridge) ipcdDial(ctx context.Context, c *ipc.Conn) (string, *ipc.Conn, error) {
	req, err := readRequest(c)
	if err != nil {
		return "", nil, err
	}
	name, r, err := ParseIPCdRequest(req)
	if err != nil {
		return name, nil, err
	}
	switch r.Endpoint.Scheme {
	case "unix", "tcp":
	case "nats":
		// ipcd itself relays the client's requests to NATS, over a socket
		// pair whose other end is handed over.
		dctx, cancel := context.WithTimeout(ctx, tcpdTimeout)
		defer cancel()
		to, err := dialRouteOnce(dctx, r, ipc.DialOptions{RunDir: b.Options.RunDir, MaxSize: b.Options.MaxSize})
		return name, to, err
	default:
		return name, nil, fmt.Errorf("%s routes %s to %s: only unix and tcp connections can be handed over as a descriptor", IPCdService, name, r.Endpoint)
	}
	dctx, cancel := context.WithTimeout(ctx, tcpdTimeout)
	defer cancel()
	mc, err := r.Endpoint.Dial(dctx, b.Options)
	if err != nil {
		return name, nil, err
	}
	to, ok := mc.(*ipc.Conn)
	if !ok || to.Buffered() > 0 {
		mc.Close()
		return name, nil, fmt.Errorf("%s: %s is not a plain LibIPC stream (use --framing ipc)", name, r.Endpoint)
	}
	return name, to, nil
}

// ParseIPCdRequest reads an ipcd client's request "NAME;NETWORK" and
// returns the service and where to reach it: NETWORK's route for NAME
// (NETWORK is the client's $IPC_NETWORK), else the local service NAME.
func ParseIPCdRequest(req []byte) (string, Route, error) {
	name, network, _ := strings.Cut(string(req), ";")
	if err := ipc.CheckName(name); err != nil {
		return "", Route{}, fmt.Errorf("%w: request %q: %v", ipc.ErrBadData, req, err)
	}
	routes, err := ParseNetwork(network)
	if err != nil {
		return name, Route{}, fmt.Errorf("%w: request for %s: %v", ipc.ErrBadData, name, err)
	}
	if r, ok := LookupRoute(routes, name); ok {
		return name, r, nil
	}
	return name, Route{Service: name, Endpoint: Endpoint{Scheme: "unix", Name: name}}, nil
}

// readRequest reads a client's one framed request, waiting at most
// tcpdTimeout.
func readRequest(c *ipc.Conn) ([]byte, error) {
	c.NetConn().SetReadDeadline(time.Now().Add(tcpdTimeout))
	defer c.NetConn().SetReadDeadline(time.Time{})
	req, err := c.ReadMessage()
	if err != nil {
		return nil, fmt.Errorf("no request: %w", err)
	}
	return req, nil
}

// passConn hands to's descriptor to the client with the raw bytes "ok",
// as LibIPC's ipcd does.
func passConn(uc *net.UnixConn, to *ipc.Conn) error {
	sc, ok := to.NetConn().(syscall.Conn)
	if !ok {
		return errors.New("the connection has no descriptor to hand over")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var werr error
	cerr := raw.Control(func(fd uintptr) {
		uc.SetWriteDeadline(time.Now().Add(tcpdTimeout))
		_, _, werr = uc.WriteMsgUnix(tcpdOK, unix.UnixRights(int(fd)), nil)
	})
	if cerr != nil {
		return cerr
	}
	if werr != nil {
		return fmt.Errorf("cannot hand the connection over: %w", werr)
	}
	return nil
}

// runTCPdOut answers one client of the outgoing tcpd.
func (b *Bridge) runTCPdOut(ctx context.Context, id uint64, a ipc.MessageConn) {
	c, ok := a.(*ipc.Conn)
	if !ok {
		a.Close()
		b.end(id, "", errors.New("tcpd serves local clients only"))
		return
	}
	req, err := readRequest(c)
	if err != nil {
		a.Close()
		b.end(id, "", fmt.Errorf("tcpd: %w", err))
		return
	}
	target := string(req)
	to, err := dialTCPdOut(ctx, target, b.Options)
	if err != nil {
		c.WriteMessage(tcpdNE)
		a.Close()
		b.end(id, target, fmt.Errorf("tcpd: %w (answered ne)", err))
		return
	}
	if err := c.WriteMessage(tcpdOK); err != nil {
		a.Close()
		to.Close()
		b.end(id, target, err)
		return
	}
	b.relay(ctx, id, a, to, target)
}

// dialTCPdOut connects to tcp://HOST:PORT/SERVICE with TCPd's handshake.
func dialTCPdOut(ctx context.Context, target string, opts EndpointOptions) (ipc.MessageConn, error) {
	e, err := ParseEndpoint(target)
	if err != nil || e.Scheme != "tcp" || e.Path == "" {
		return nil, fmt.Errorf("%w: request %q: want tcp://HOST:PORT/SERVICE", ipc.ErrBadData, target)
	}
	e.Framing = nil
	opts.Framing = FramingIPC
	dctx, cancel := context.WithTimeout(ctx, tcpdTimeout)
	defer cancel()
	return e.Dial(dctx, opts)
}

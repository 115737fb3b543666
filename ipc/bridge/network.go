package bridge

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
)

// Route sends the clients of one service elsewhere: one rule of
// IPC_NETWORK.
type Route struct {
	// Service is the name clients ask for.
	Service string
	// Endpoint is where it is reached instead of the run directory.
	Endpoint Endpoint
}

// ParseNetwork reads IPC_NETWORK: rules "NAME URI" separated by ";", with
// any whitespace around and between the two parts. A URI is
// tcp://HOST:PORT/SERVICE (TCPd's handshake, then LibIPC frames),
// tcp://HOST:PORT (LibIPC frames straight away), the same with tls://,
// ws://HOST:PORT/PATH or wss:// (one WebSocket message per message),
// nats://HOST:PORT/SUBJECT (one NATS request per message), unix:/PATH (a
// socket path) or unix:NAME (another local service).
func ParseNetwork(s string) ([]Route, error) {
	var routes []Route
	for rule := range strings.SplitSeq(s, ";") {
		fields := strings.Fields(rule)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 {
			return nil, fmt.Errorf("IPC_NETWORK: rule %q is not NAME URI", strings.TrimSpace(rule))
		}
		r, err := parseRoute(fields[0], fields[1])
		if err != nil {
			return nil, err
		}
		routes = append(routes, r)
	}
	return routes, nil
}

// parseRoute reads one rule's two parts.
func parseRoute(name, uri string) (Route, error) {
	if err := ipc.CheckName(name); err != nil {
		return Route{}, fmt.Errorf("IPC_NETWORK: %v", err)
	}
	e, err := ParseEndpoint(uri)
	if err != nil {
		return Route{}, fmt.Errorf("IPC_NETWORK: rule for %s: %v", name, err)
	}
	if e.Framing != nil && *e.Framing != FramingIPC {
		return Route{}, fmt.Errorf("IPC_NETWORK: rule for %s: a route carries LibIPC frames, not %s", name, e.Framing)
	}
	if e.Scheme == "nats" && wildcard(e.Path) {
		return Route{}, fmt.Errorf("IPC_NETWORK: rule for %s: requests go to one subject, not to %s", name, e.Path)
	}
	return Route{Service: name, Endpoint: e}, nil
}

// LookupRoute returns the first route for service, if any.
func LookupRoute(routes []Route, service string) (Route, bool) {
	for _, r := range routes {
		if r.Service == service {
			return r, true
		}
	}
	return Route{}, false
}

// Dial connects to service name as ipc.Dial does, unless $IPC_NETWORK
// routes name elsewhere: then it connects through that route, so that a
// client does not change when its service moves to another machine. The
// client certificate and CA of tls:// and wss:// routes come from
// $IPC_NETWORK_CERT, $IPC_NETWORK_KEY and $IPC_NETWORK_CA. A malformed
// $IPC_NETWORK is ipc.ErrInvalid: a setting to fix, not bad data.
func Dial(ctx context.Context, name string, opts ipc.DialOptions) (*ipc.Conn, error) {
	env := os.Getenv("IPC_NETWORK")
	if env == "" {
		return ipc.Dial(ctx, name, opts)
	}
	routes, err := ParseNetwork(env)
	if err != nil {
		return nil, ipc.Errorf(ipc.ErrInvalid, "%w", err)
	}
	r, ok := LookupRoute(routes, name)
	if !ok {
		return ipc.Dial(ctx, name, opts)
	}
	return dialRoute(ctx, r, opts)
}

// dialRoute connects through a route, waiting up to opts.Wait for the
// far side to appear.
func dialRoute(ctx context.Context, r Route, opts ipc.DialOptions) (*ipc.Conn, error) {
	if opts.Wait <= 0 {
		return dialRouteOnce(ctx, r, opts)
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Wait)
	defer cancel()
	for delay := 5 * time.Millisecond; ; delay = min(delay*2, 200*time.Millisecond) {
		c, err := dialRouteOnce(ctx, r, opts)
		if err == nil || !(errors.Is(err, ipc.ErrNoService) || errors.Is(err, ipc.ErrRefused)) {
			return c, err
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, fmt.Errorf("%w: service %s did not appear at %s within %s", ipc.ErrTimeout, r.Service, r.Endpoint, opts.Wait)
			}
			return nil, ctx.Err()
		case <-time.After(delay):
		}
	}
}

// dialRouteOnce connects through a route once, as a Conn.
func dialRouteOnce(ctx context.Context, r Route, opts ipc.DialOptions) (*ipc.Conn, error) {
	eopts := EndpointOptions{
		RunDir:  opts.RunDir,
		MaxSize: opts.MaxSize,
		TLS: TLSFiles{
			Cert: os.Getenv("IPC_NETWORK_CERT"),
			Key:  os.Getenv("IPC_NETWORK_KEY"),
			CA:   os.Getenv("IPC_NETWORK_CA"),
		},
	}
	if r.Endpoint.Scheme == "nats" {
		eopts.NATS = routeNATSOptions()
	}
	mc, err := r.Endpoint.Dial(ctx, eopts)
	if err != nil {
		return nil, fmt.Errorf("service %s through IPC_NETWORK (%s): %w", r.Service, r.Endpoint, err)
	}
	switch c := mc.(type) {
	case *ipc.Conn:
		return c, nil
	case *WSConn:
		return ipc.NewConn(newWSStream(c, r.Endpoint.String()), opts.MaxSize), nil
	case *natsRoute:
		return natsConn(c, opts.MaxSize)
	}
	mc.Close()
	return nil, fmt.Errorf("service %s through IPC_NETWORK: %s does not carry LibIPC frames", r.Service, r.Endpoint)
}

package ipc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
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
// unix:/PATH (a socket path) or unix:NAME (another local service).
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
	if err := checkName(name); err != nil {
		return Route{}, fmt.Errorf("IPC_NETWORK: %v", err)
	}
	e, err := ParseEndpoint(uri)
	if err != nil {
		return Route{}, fmt.Errorf("IPC_NETWORK: rule for %s: %v", name, err)
	}
	if e.Framing != nil && *e.Framing != FramingIPC {
		return Route{}, fmt.Errorf("IPC_NETWORK: rule for %s: a route carries LibIPC frames, not %s", name, e.Framing)
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

// localOnlyKey marks a context whose Dial must not consult IPC_NETWORK.
type localOnlyKey struct{}

// localOnly makes Dial with ctx ignore IPC_NETWORK, as TCPd's server side
// must (it serves local services) and as a route to unix:NAME does.
func localOnly(ctx context.Context) context.Context {
	return context.WithValue(ctx, localOnlyKey{}, true)
}

// dialNetwork is Dial's first step: when $IPC_NETWORK routes name
// elsewhere, it connects there and reports true. The client certificate
// and CA of tls:// and wss:// routes come from $IPC_NETWORK_CERT,
// $IPC_NETWORK_KEY and $IPC_NETWORK_CA.
func dialNetwork(ctx context.Context, name string, opts DialOptions) (*Conn, bool, error) {
	env := os.Getenv("IPC_NETWORK")
	if env == "" || ctx.Value(localOnlyKey{}) != nil {
		return nil, false, nil
	}
	routes, err := ParseNetwork(env)
	if err != nil {
		return nil, true, fmt.Errorf("%w: %v", ErrBadData, err)
	}
	r, ok := LookupRoute(routes, name)
	if !ok {
		return nil, false, nil
	}
	c, err := dialRoute(localOnly(ctx), r, opts)
	return c, true, err
}

// dialRoute connects through a route, waiting up to opts.Wait for the
// far side to appear.
func dialRoute(ctx context.Context, r Route, opts DialOptions) (*Conn, error) {
	if opts.Wait <= 0 {
		return dialRouteOnce(ctx, r, opts)
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Wait)
	defer cancel()
	for delay := 5 * time.Millisecond; ; delay = min(delay*2, 200*time.Millisecond) {
		c, err := dialRouteOnce(ctx, r, opts)
		if err == nil || !(errors.Is(err, ErrNoService) || errors.Is(err, ErrRefused)) {
			return c, err
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, fmt.Errorf("%w: service %s did not appear at %s within %s", ErrTimeout, r.Service, r.Endpoint, opts.Wait)
			}
			return nil, ctx.Err()
		case <-time.After(delay):
		}
	}
}

// dialRouteOnce connects through a route once, as a Conn.
func dialRouteOnce(ctx context.Context, r Route, opts DialOptions) (*Conn, error) {
	eopts := EndpointOptions{
		RunDir:  opts.RunDir,
		MaxSize: opts.MaxSize,
		TLS: TLSFiles{
			Cert: os.Getenv("IPC_NETWORK_CERT"),
			Key:  os.Getenv("IPC_NETWORK_KEY"),
			CA:   os.Getenv("IPC_NETWORK_CA"),
		},
	}
	mc, err := r.Endpoint.Dial(ctx, eopts)
	if err != nil {
		return nil, fmt.Errorf("service %s through IPC_NETWORK (%s): %w", r.Service, r.Endpoint, err)
	}
	switch c := mc.(type) {
	case *Conn:
		return c, nil
	case *WSConn:
		return NewConn(newWSStream(c, r.Endpoint.String()), opts.MaxSize), nil
	}
	mc.Close()
	return nil, fmt.Errorf("service %s through IPC_NETWORK: %s does not carry LibIPC frames", r.Service, r.Endpoint)
}

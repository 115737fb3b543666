// Package natsopt is how ipcctl connects to NATS: the servers, the
// credentials and TLS files as the nats command-line client names them,
// and one reconnect policy for every ipcctl program that uses NATS.
//
// The NATS protocol itself is the official client's, github.com/nats-io/nats.go:
// it reconnects, follows the cluster's other servers and speaks TLS and
// credentials; nothing of the protocol is written here.
//
//	nc, err := natsopt.Options{URLs: "nats://a:4222,nats://b:4222"}.Connect("bus pong")
package natsopt

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
	"github.com/nats-io/nats.go"
)

// DefaultURL is the server used when neither Options.URLs nor $NATS_URL
// names one, as for the nats command-line client.
const DefaultURL = nats.DefaultURL

// The environment variables of the nats command-line client that the
// options default to.
const (
	EnvURL   = "NATS_URL"
	EnvCreds = "NATS_CREDS"
	EnvCert  = "NATS_CERT"
	EnvKey   = "NATS_KEY"
	EnvCA    = "NATS_CA"
)

// ReconnectBuffer bounds what the client holds for a server while it
// reconnects. Past it, a publish fails at once (nats.ErrReconnectBufExceeded)
// so that the caller can report the loss: nothing is buffered without bound.
const ReconnectBuffer = 8 << 20

// Options are the settings of a connection to NATS.
type Options struct {
	// URLs is a comma-separated list of servers; empty: $NATS_URL, then
	// DefaultURL.
	URLs string
	// Creds is a credentials file (user JWT and NKey seed), as nats --creds.
	Creds string
	// TLSCert and TLSKey are a client certificate and its key; TLSCA is a
	// file of CA certificates to verify the servers with. As nats
	// --tlscert, --tlskey and --tlsca.
	TLSCert, TLSKey, TLSCA string
}

// Servers returns the list of servers the options name.
func (o Options) Servers() string {
	if o.URLs != "" {
		return o.URLs
	}
	if env := os.Getenv(EnvURL); env != "" {
		return env
	}
	return DefaultURL
}

// Check reports a malformed setting, for a usage error before any
// connection is tried.
func (o Options) Check() error {
	for _, u := range strings.Split(o.Servers(), ",") {
		u = strings.TrimSpace(u)
		if u == "" {
			return errors.New("empty NATS server URL")
		}
		if !strings.Contains(u, "://") {
			u = "nats://" + u
		}
		p, err := url.Parse(u)
		if err != nil || p.Host == "" {
			return fmt.Errorf("bad NATS server URL %q: want nats://HOST:PORT", u)
		}
		switch p.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return fmt.Errorf("bad NATS server URL %q: the scheme is nats, tls, ws or wss", u)
		}
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return errors.New("a NATS client certificate needs both --nats-tls-cert and --nats-tls-key")
	}
	for _, f := range []string{o.Creds, o.TLSCert, o.TLSKey, o.TLSCA} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			return err
		}
	}
	return nil
}

// NATS returns the options of nats.go for a connection named name (the
// name the server shows in its connection list), followed by more.
// The client retries the first connection as it does later ones, forever,
// a second apart: a service started before its NATS server works once
// the server is up. A server that refuses its credentials when it
// reconnects is tried again too (nats.go gives up after two refusals),
// as its operator may put them right.
func (o Options) NATS(name string, more ...nats.Option) []nats.Option {
	opts := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.IgnoreAuthErrorAbort(),
		nats.ReconnectWait(time.Second),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectBufSize(ReconnectBuffer),
	}
	if o.Creds != "" {
		opts = append(opts, nats.UserCredentials(o.Creds))
	}
	if o.TLSCert != "" {
		opts = append(opts, nats.ClientCert(o.TLSCert, o.TLSKey))
	}
	if o.TLSCA != "" {
		opts = append(opts, nats.RootCAs(o.TLSCA))
	}
	return append(opts, more...)
}

// Connect connects to the servers, as NATS returns them. The first
// connection is tried at once: a server that refuses the credentials or
// the TLS handshake is an error wrapping ipc.ErrPermission, since trying
// again would not help; a server that is down is tried again in the
// background, as later connections are, with no second try before
// Connect returns (a host that does not answer costs one timeout).
func (o Options) Connect(name string, more ...nats.Option) (*nats.Conn, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	opts := o.NATS(name, more...)
	var given nats.Options
	for _, opt := range opts {
		opt(&given)
	}
	if !given.RetryOnFailedConnect {
		nc, err := nats.Connect(o.Servers(), opts...)
		if err != nil {
			return nil, o.refused(err)
		}
		return nc, nil
	}
	// A client that retries returns from a failed first try in the
	// state of reconnecting, and hands that try's error to its
	// ReconnectErrCB: the first call of it is ours.
	first := &firstError{err: make(chan error, 1), then: given.ReconnectErrCB}
	nc, err := nats.Connect(o.Servers(), append(opts, nats.ReconnectErrHandler(first.handle))...)
	if err != nil {
		return nil, o.refused(err)
	}
	if nc.Status() != nats.RECONNECTING {
		first.pass()
		return nc, nil
	}
	select {
	case err = <-first.err:
	case <-time.After(firstErrorWait):
		return nc, nil
	}
	if why := o.refusal(err); why != "" {
		nc.Close()
		return nil, o.refused(err)
	}
	if first.then != nil {
		first.then(nc, err)
	}
	return nc, nil
}

// firstErrorWait bounds the wait for the error of a failed first try,
// which the client hands over at once from a goroutine of its own.
const firstErrorWait = 5 * time.Second

// firstError takes the first error of a client's ReconnectErrCB and
// passes the later ones on to then.
type firstError struct {
	mu   sync.Mutex
	done bool // the first is taken, or there was no failed first try
	err  chan error
	then nats.ConnErrHandler
}

func (f *firstError) handle(nc *nats.Conn, err error) {
	f.mu.Lock()
	first := !f.done
	f.done = true
	f.mu.Unlock()
	if first {
		f.err <- err
		return
	}
	if f.then != nil {
		f.then(nc, err)
	}
}

// pass passes every error on to then: there was no failed first try.
func (f *firstError) pass() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.done = true
}

// refused is err, the failure of a first connection, wrapping
// ipc.ErrPermission when it is a refusal.
func (o Options) refused(err error) error {
	if why := o.refusal(err); why != "" {
		return fmt.Errorf("%w: NATS at %s %s: %v", ipc.ErrPermission, o.Servers(), why, err)
	}
	return err
}

// Repeats tells a refusal that the client reports again and again (a
// server that refuses the credentials at each try to reconnect) from a
// new one, so that it is reported once. Use it from the client's
// callbacks, which nats.go runs one at a time.
type Repeats struct{ last string }

// New reports whether err is news: not the refusal last reported since
// Reset. Any other error is news each time.
func (r *Repeats) New(err error) bool {
	refusal := errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) ||
		errors.Is(err, nats.ErrAuthRevoked) || errors.Is(err, nats.ErrAccountAuthExpired)
	if !refusal {
		return true
	}
	if err.Error() == r.last {
		return false
	}
	r.last = err.Error()
	return true
}

// Reset forgets the last error: the connection is made again.
func (r *Repeats) Reset() { r.last = "" }

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
// background, as later connections are.
func (o Options) Connect(name string, more ...nats.Option) (*nats.Conn, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	opts := o.NATS(name, more...)
	once := append(opts[:len(opts):len(opts)], nats.RetryOnFailedConnect(false))
	nc, err := nats.Connect(o.Servers(), once...)
	if err == nil {
		return nc, nil
	}
	if why := o.refusal(err); why != "" {
		return nil, fmt.Errorf("%w: NATS at %s %s: %v", ipc.ErrPermission, o.Servers(), why, err)
	}
	if !retried(opts) {
		return nil, err
	}
	return nats.Connect(o.Servers(), opts...)
}

// retried reports whether opts, applied in order, retry a failed first
// connection.
func retried(opts []nats.Option) bool {
	var no nats.Options
	for _, opt := range opts {
		opt(&no)
	}
	return no.RetryOnFailedConnect
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

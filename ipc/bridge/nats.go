package bridge

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
	"github.com/ipcctl/ipcctl/ipc/natsopt"
	"github.com/nats-io/nats.go"
)

// The defaults of NATSOptions.
const (
	DefaultNATSQueue       = "ipcctl"
	DefaultNATSTimeout     = 5 * time.Second
	DefaultNATSMaxInFlight = 64
)

// The headers of a NATS error reply, as NATS micro services set them, so
// that `nats req` and micro clients show the error.
const (
	HeaderServiceError     = "Nats-Service-Error"
	HeaderServiceErrorCode = "Nats-Service-Error-Code"
)

// NATSOptions set up the nats:// endpoints of a Bridge.
type NATSOptions struct {
	// Conn holds the credentials and TLS files; its URLs are replaced by
	// the endpoint's servers when the endpoint names some.
	Conn natsopt.Options
	// Queue is the queue group of a listening endpoint, so that several
	// copies share the requests (DefaultNATSQueue when empty; "-": none,
	// every copy gets every request).
	Queue string
	// Timeout bounds a request: the local service's answer to a NATS
	// request, or the NATS service's answer to a local client's message
	// (DefaultNATSTimeout when 0).
	Timeout time.Duration
	// MaxInFlight bounds the requests in progress at once, each way
	// (DefaultNATSMaxInFlight when 0).
	MaxInFlight int
}

func (o NATSOptions) queue() string {
	switch o.Queue {
	case "":
		return DefaultNATSQueue
	case "-":
		return ""
	}
	return o.Queue
}

func (o NATSOptions) timeout() time.Duration {
	if o.Timeout <= 0 {
		return DefaultNATSTimeout
	}
	return o.Timeout
}

func (o NATSOptions) maxInFlight() int {
	if o.MaxInFlight <= 0 {
		return DefaultNATSMaxInFlight
	}
	return o.MaxInFlight
}

// parseNATS reads nats://HOST:PORT[,HOST:PORT...]/SUBJECT; each server may
// carry its own nats:// or tls:// (so that "$NATS_URL/SUBJECT" works), and
// with no server at all (nats:///SUBJECT) the servers are $NATS_URL's.
func parseNATS(s string) (Endpoint, error) {
	rest := strings.TrimPrefix(s, "nats://")
	i := strings.LastIndex(rest, "/")
	if i < 0 {
		return Endpoint{}, fmt.Errorf("bad endpoint %q: expected nats://HOST:PORT/SUBJECT", s)
	}
	servers, subject := rest[:i], rest[i+1:]
	var hosts []string
	if servers != "" {
		for _, h := range strings.Split(servers, ",") {
			h = strings.TrimSpace(h)
			if !strings.Contains(h, "://") {
				h = "nats://" + h
			}
			if strings.Contains(h[strings.Index(h, "://")+3:], "/") {
				return Endpoint{}, fmt.Errorf("bad endpoint %q: a NATS subject is dot-separated, not a path", s)
			}
			hosts = append(hosts, h)
		}
		if err := (natsopt.Options{URLs: strings.Join(hosts, ",")}).Check(); err != nil {
			return Endpoint{}, fmt.Errorf("bad endpoint %q: %v", s, err)
		}
	}
	if err := CheckSubject(subject); err != nil {
		return Endpoint{}, fmt.Errorf("bad endpoint %q: %v", s, err)
	}
	return Endpoint{Scheme: "nats", Host: strings.Join(hosts, ","), Path: subject}, nil
}

// CheckSubject reports whether s is a NATS subject ipcctl may use: tokens
// of printable bytes without spaces, separated by single dots; "*" and a
// final ">" are the wildcards (for a listening endpoint only).
func CheckSubject(s string) error {
	if s == "" {
		return errors.New("missing NATS subject after the servers")
	}
	tokens := strings.Split(s, ".")
	for i, t := range tokens {
		if t == "" {
			return fmt.Errorf("NATS subject %q has an empty token", s)
		}
		if strings.ContainsAny(t, "*>") && t != "*" && !(t == ">" && i == len(tokens)-1) {
			return fmt.Errorf("NATS subject %q: a wildcard (* or a final >) is a whole token", s)
		}
		for _, r := range t {
			if r <= ' ' || r == 0x7f {
				return fmt.Errorf("NATS subject %q holds a space or a control byte", s)
			}
		}
	}
	return nil
}

// wildcard reports whether a subject has a wildcard: it can be listened
// on, not requested.
func wildcard(subject string) bool {
	for _, t := range strings.Split(subject, ".") {
		if t == "*" || t == ">" {
			return true
		}
	}
	return false
}

// natsString is a nats:// endpoint as ParseEndpoint reads it.
func (e Endpoint) natsString() string {
	var hosts []string
	for _, h := range strings.Split(e.Host, ",") {
		hosts = append(hosts, strings.TrimPrefix(h, "nats://"))
	}
	return "nats://" + strings.Join(hosts, ",") + "/" + e.Path
}

// natsConnect connects to the endpoint's servers with opts' credentials.
// A client of a local service is refused (ErrRefused) at once when no
// server answers, as a closed port would be; a switch waits instead. A
// server that refuses the credentials or TLS is ErrPermission for both.
func (e Endpoint) natsConnect(o natsopt.Options, name string, more ...nats.Option) (*nats.Conn, error) {
	if e.Host != "" {
		o.URLs = e.Host
	}
	nc, err := o.Connect(name, more...)
	if errors.Is(err, ipc.ErrPermission) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%w: cannot connect to NATS at %s: %v", ipc.ErrRefused, o.Servers(), err)
	}
	return nc, nil
}

// serviceError is the error a NATS reply's micro-service headers carry,
// or nil.
func serviceError(m *nats.Msg) error {
	if m.Header == nil {
		return nil
	}
	text, code := m.Header.Get(HeaderServiceError), m.Header.Get(HeaderServiceErrorCode)
	if text == "" && code == "" {
		return nil
	}
	return fmt.Errorf("NATS service error %s: %s", code, text)
}

// errorReply answers a request with a NATS micro-style error.
func errorReply(m *nats.Msg, code int, text string) error {
	r := nats.NewMsg(m.Reply)
	r.Header.Set(HeaderServiceError, text)
	r.Header.Set(HeaderServiceErrorCode, fmt.Sprint(code))
	return m.RespondMsg(r)
}

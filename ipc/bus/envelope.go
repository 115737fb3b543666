package bus

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/ipcctl/ipcctl/ipc"
)

// Version is the envelope's version, sent in every hello.
const Version = 1

// MaxHeader is the most bytes an envelope's header may hold, its "\n"
// not counted.
const MaxHeader = 16 << 10

// PresenceGroup is the bus's own group where it tells of clients that
// connect, disconnect, subscribe and unsubscribe.
const PresenceGroup = "@presence"

// MaxGroup is the longest group name.
const MaxGroup = 255

// MaxGroups is the most groups one client may be in at once, so that what
// the bus tells of a client (presence, listings) stays bounded.
const MaxGroups = 256

// Header is an envelope's header; Body travels beside it. Which fields an
// envelope carries depends on its Op, as docs/protocol.md lists them.
type Header struct {
	Op            string   `json:"op"`
	Group         string   `json:"group,omitempty"`
	To            string   `json:"to,omitempty"`
	From          string   `json:"from,omitempty"`
	Addr          string   `json:"addr,omitempty"`
	Bus           string   `json:"bus,omitempty"`
	Version       int      `json:"version,omitempty"`
	Ref           uint64   `json:"ref,omitempty"`
	Call          uint64   `json:"call,omitempty"`
	Each          bool     `json:"each,omitempty"`
	Undeliverable bool     `json:"undeliverable,omitempty"`
	Error         string   `json:"error,omitempty"`
	Status        *int     `json:"status,omitempty"`
	Reason        string   `json:"reason,omitempty"`
	Event         string   `json:"event,omitempty"`
	Groups        []string `json:"groups,omitempty"`
	Callees       []string `json:"callees,omitempty"`
	Members       []Member `json:"members,omitempty"`
	Count         uint64   `json:"count,omitempty"`
	PID           int      `json:"pid,omitempty"`
	UID           *int     `json:"uid,omitempty"` // pointers where 0 is meaningful
	GID           *int     `json:"gid,omitempty"`
	// After asks a list for the members after this address (the last of
	// the page before); More says a members page is not the last.
	After string `json:"after,omitempty"`
	More  bool   `json:"more,omitempty"`
}

// Member is one client of the bus, as a listing shows it.
type Member struct {
	Addr   string   `json:"addr"`
	Groups []string `json:"groups"`
	PID    int      `json:"pid"`
	UID    int      `json:"uid"`
	GID    int      `json:"gid"`
	// Bus names the bus of a client of another bus (HOST/NAME); "" for
	// this bus's own.
	Bus string `json:"bus,omitempty"`
}

// Encode returns the envelope of h and body: h as one line of compact
// JSON, then body. It fails when the header is over MaxHeader, the most a
// bus takes from a client.
func Encode(h *Header, body []byte) ([]byte, error) {
	return AppendEncode(nil, h, body)
}

// AppendEncode appends the envelope of h and body to dst, as Encode makes
// it. On error dst is returned unchanged.
func AppendEncode(dst []byte, h *Header, body []byte) ([]byte, error) {
	out, err := appendEnvelope(dst, h, body)
	if err != nil {
		return dst, err
	}
	if n := bytes.IndexByte(out[len(dst):], '\n'); n > MaxHeader {
		return dst, fmt.Errorf("%w: envelope header of %d bytes is over %d", ipc.ErrBadData, n, MaxHeader)
	}
	return out, nil
}

// appendEnvelope appends the envelope of h and body to dst whatever the
// header's length: the bus's own headers (a listing, a client's groups)
// may pass MaxHeader.
func appendEnvelope(dst []byte, h *Header, body []byte) ([]byte, error) {
	if out, ok := appendQuick(dst, h); ok {
		return append(out, body...), nil
	}
	buf := bytes.NewBuffer(dst)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(h); err != nil { // writes the "\n" too
		return dst, fmt.Errorf("%w: envelope header: %v", ipc.ErrBadData, err)
	}
	return append(buf.Bytes(), body...), nil
}

// Decode splits an envelope into its header and body. The body aliases p.
// The header ends at the first "\n", whatever its length (a bus refuses
// headers over MaxHeader from its clients, but its own may be longer).
// Errors wrap ipc.ErrBadData: no "\n", a header that is not one JSON
// object, a field of the wrong type, or no op. Unknown fields are ignored;
// Decode does not judge whether the op is one the reader knows.
func Decode(p []byte) (Header, []byte, error) {
	return decode(p, len(p), nil)
}

// decode is Decode for a header of at most limit bytes, its strings from
// n when not nil.
func decode(p []byte, limit int, n *names) (Header, []byte, error) {
	var h Header
	i := bytes.IndexByte(p[:min(len(p), limit+1)], '\n')
	if i < 0 {
		if len(p) > limit {
			return h, nil, fmt.Errorf("%w: envelope header over %d bytes", ipc.ErrBadData, limit)
		}
		return h, nil, fmt.Errorf("%w: envelope without a newline after its header", ipc.ErrBadData)
	}
	head := bytes.TrimLeft(p[:i], " \t\r")
	if len(head) == 0 || head[0] != '{' {
		return h, nil, fmt.Errorf("%w: envelope header is not a JSON object", ipc.ErrBadData)
	}
	if !quickHeader(head, &h, n) {
		var err error
		if h, err = slowHeader(head); err != nil {
			return Header{}, nil, err
		}
	}
	if h.Op == "" {
		return Header{}, nil, fmt.Errorf("%w: envelope header without an op", ipc.ErrBadData)
	}
	return h, p[i+1:], nil
}

// slowHeader decodes with encoding/json a header that quickHeader does
// not take; kept apart from decode so that decode's Header, which it
// hands to json, does not move to the heap on every call.
func slowHeader(head []byte) (Header, error) {
	var h Header
	if err := json.Unmarshal(head, &h); err != nil {
		return Header{}, fmt.Errorf("%w: envelope header: %v", ipc.ErrBadData, err)
	}
	return h, nil
}

// ValidGroup reports whether g may name a group: 1 to 255 bytes of
// printable ASCII without space (0x21 to 0x7e).
func ValidGroup(g string) error {
	if g == "" {
		return fmt.Errorf("%w: empty group name", ipc.ErrBadData)
	}
	if len(g) > MaxGroup {
		return fmt.Errorf("%w: group name of %d bytes is over %d", ipc.ErrBadData, len(g), MaxGroup)
	}
	for i := 0; i < len(g); i++ {
		if g[i] < 0x21 || g[i] > 0x7e {
			return fmt.Errorf("%w: group name %q: byte %d is not printable ASCII (0x21-0x7e)", ipc.ErrBadData, g, i)
		}
	}
	return nil
}

// Own reports whether group g is one of the bus's own, beginning with "@":
// a client may subscribe to it but not send to it.
func Own(g string) bool { return len(g) > 0 && g[0] == '@' }

// FrameMax is the frame size to accept on a bus connection whose bodies
// may be up to maxSize bytes: the body, the longest header and its "\n".
func FrameMax(maxSize int) int {
	if maxSize <= 0 {
		maxSize = ipc.DefaultMaxSize
	}
	return maxSize + MaxHeader + 1
}

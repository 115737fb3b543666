package bus

import "strconv"

// A fast path for the headers the bus and its clients send most: one
// compact JSON object whose values are plain ASCII strings, unsigned
// integers and booleans under the exact names of Header's fields. Anything
// else (escapes, whitespace, arrays, null, other names) is left to
// encoding/json: quickHeader then reports false. FuzzDecode checks that
// whatever it accepts, encoding/json reads the same way.

// quickHeader parses head into h, and reports whether it could. Its
// strings come from n (see names), when not nil.
func quickHeader(head []byte, h *Header, n *names) bool {
	if len(head) < 2 || head[0] != '{' || head[len(head)-1] != '}' {
		return false
	}
	p := head[1 : len(head)-1]
	for len(p) > 0 {
		key, rest, ok := quickBytes(p)
		if !ok || len(rest) == 0 || rest[0] != ':' {
			return false
		}
		if p, ok = quickField(h, key, rest[1:], n); !ok {
			return false
		}
		if len(p) > 0 {
			if p[0] != ',' || len(p) == 1 {
				return false
			}
			p = p[1:]
		}
	}
	return true
}

// quickField parses the value of field key at the start of p into h and
// returns what follows it.
func quickField(h *Header, key []byte, p []byte, n *names) ([]byte, bool) {
	if string(key) == "op" {
		v, rest, ok := quickBytes(p)
		h.Op = knownOp(v)
		return rest, ok
	}
	if s := h.stringField(key); s != nil {
		v, rest, ok := quickBytes(p)
		*s = n.str(v)
		return rest, ok
	}
	if n := h.uintField(key); n != nil {
		v, rest, ok := quickUint(p)
		*n = v
		return rest, ok
	}
	if i := h.intField(key); i != nil {
		v, rest, ok := quickUint(p)
		*i = int(v)
		return rest, ok && v <= 1<<31
	}
	if b := h.boolField(key); b != nil {
		switch {
		case len(p) >= 4 && string(p[:4]) == "true":
			*b = true
			return p[4:], true
		case len(p) >= 5 && string(p[:5]) == "false":
			*b = false
			return p[5:], true
		}
	}
	return nil, false
}

func (h *Header) stringField(key []byte) *string {
	switch string(key) {
	case "op":
		return &h.Op
	case "group":
		return &h.Group
	case "to":
		return &h.To
	case "from":
		return &h.From
	case "addr":
		return &h.Addr
	case "bus":
		return &h.Bus
	case "error":
		return &h.Error
	case "reason":
		return &h.Reason
	case "event":
		return &h.Event
	case "after":
		return &h.After
	}
	return nil
}

func (h *Header) uintField(key []byte) *uint64 {
	switch string(key) {
	case "ref":
		return &h.Ref
	case "call":
		return &h.Call
	case "count":
		return &h.Count
	}
	return nil
}

func (h *Header) intField(key []byte) *int {
	switch string(key) {
	case "version":
		return &h.Version
	case "pid":
		return &h.PID
	}
	return nil
}

func (h *Header) boolField(key []byte) *bool {
	switch string(key) {
	case "each":
		return &h.Each
	case "undeliverable":
		return &h.Undeliverable
	case "more":
		return &h.More
	}
	return nil
}

// names hands out the strings of a reader's envelopes: the last few it
// made, when the bytes are the same, else a new one. The envelopes a
// client reads, or a bus reads from one client, name the same sender
// and groups over and over: so decoding them allocates nothing.
type names struct {
	s    [8]string
	next int
}

// str returns b as a string. A nil n makes a new one.
func (n *names) str(b []byte) string {
	if n == nil || len(b) == 0 {
		return string(b)
	}
	for _, s := range n.s {
		if s == string(b) {
			return s
		}
	}
	s := string(b)
	n.s[n.next] = s
	n.next = (n.next + 1) % len(n.s)
	return s
}

// knownOp returns op as a string: one of the ops of the protocol without
// an allocation, for every message carries one.
func knownOp(op []byte) string {
	switch string(op) {
	case "msg":
		return "msg"
	case "answer":
		return "answer"
	case "dropped":
		return "dropped"
	case "presence":
		return "presence"
	}
	return string(op)
}

// quickBytes reads a JSON string of printable ASCII without escapes, and
// returns its bytes, not a copy.
func quickBytes(p []byte) ([]byte, []byte, bool) {
	if len(p) == 0 || p[0] != '"' {
		return nil, nil, false
	}
	for i := 1; i < len(p); i++ {
		switch c := p[i]; {
		case c == '"':
			return p[1:i], p[i+1:], true
		case c < 0x20 || c > 0x7e || c == '\\':
			return nil, nil, false
		}
	}
	return nil, nil, false
}

// quickUint reads an unsigned JSON integer of at most 19 digits, without
// leading zeros.
func quickUint(p []byte) (uint64, []byte, bool) {
	var n uint64
	i := 0
	for ; i < len(p) && p[i] >= '0' && p[i] <= '9'; i++ {
		n = n*10 + uint64(p[i]-'0')
	}
	if i == 0 || i > 19 || i > 1 && p[0] == '0' {
		return 0, nil, false
	}
	return n, p[i:], true
}

// appendQuick appends h as encoding/json writes it, with its "\n", when
// it holds only plain strings, integers and booleans, and reports
// whether it could. FuzzEncode checks that the bytes are encoding/json's.
func appendQuick(dst []byte, h *Header) ([]byte, bool) {
	if len(h.Groups)+len(h.Callees)+len(h.Members) > 0 || h.Groups != nil || h.Callees != nil || h.Members != nil ||
		h.Status != nil || h.UID != nil || h.GID != nil || h.Version < 0 || h.PID < 0 {
		return dst, false
	}
	start := len(dst)
	dst = append(dst, `{"op":`...)
	dst, ok := quoteQuick(dst, h.Op)
	for _, f := range [...]struct {
		key, v string
	}{{"group", h.Group}, {"to", h.To}, {"from", h.From}, {"addr", h.Addr}, {"bus", h.Bus}} {
		if ok && f.v != "" {
			dst = append(append(append(dst, ",\""...), f.key...), "\":"...)
			dst, ok = quoteQuick(dst, f.v)
		}
	}
	dst = appendUint(dst, "version", uint64(h.Version))
	dst = appendUint(dst, "ref", h.Ref)
	dst = appendUint(dst, "call", h.Call)
	if h.Each {
		dst = append(dst, `,"each":true`...)
	}
	if h.Undeliverable {
		dst = append(dst, `,"undeliverable":true`...)
	}
	for _, f := range [...]struct {
		key, v string
	}{{"error", h.Error}, {"reason", h.Reason}, {"event", h.Event}} {
		if ok && f.v != "" {
			dst = append(append(append(dst, ",\""...), f.key...), "\":"...)
			dst, ok = quoteQuick(dst, f.v)
		}
	}
	dst = appendUint(dst, "count", h.Count)
	dst = appendUint(dst, "pid", uint64(h.PID))
	if ok && h.After != "" {
		dst = append(dst, `,"after":`...)
		dst, ok = quoteQuick(dst, h.After)
	}
	if h.More {
		dst = append(dst, `,"more":true`...)
	}
	if !ok {
		return dst[:start], false
	}
	return append(dst, "}\n"...), true
}

// appendUint appends ,"key":n unless n is 0 (omitempty).
func appendUint(dst []byte, key string, n uint64) []byte {
	if n == 0 {
		return dst
	}
	dst = append(append(append(dst, ",\""...), key...), "\":"...)
	return strconv.AppendUint(dst, n, 10)
}

// quoteQuick appends s as a JSON string when it is printable ASCII that
// needs no escape.
func quoteQuick(dst []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return dst, false
		}
	}
	return append(append(append(dst, '"'), s...), '"'), true
}

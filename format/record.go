package format

import (
	"fmt"
	"io"
	"time"
)

// TimeLayout is how times are written: RFC 3339 in UTC with nanoseconds,
// always nine fractional digits so that columns line up.
const TimeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// Record is one event as it is printed: the commands convert engine events
// into Records, so this package knows nothing of the engine.
type Record struct {
	// Event names what happened: "message", "connection",
	// "disconnection", "listening", "timer", "error", "sent", ...
	Event string
	// Client is the client id, "" when the event concerns no client.
	Client string
	// Time is when it happened; the zero time means now.
	Time time.Time
	// Data is the payload; nil means none, an empty non-nil slice is an
	// empty payload.
	Data []byte
	// Peer holds the peer's credentials on connection events.
	Peer *Peer
	// Fields are further facts in order: error text, exit status,
	// direction, size, path...
	Fields []Field
}

// Payload returns p as a Record's Data: a nil p is an empty message, which
// is still a payload, not none.
func Payload(p []byte) []byte {
	if p == nil {
		return []byte{}
	}
	return p
}

// Peer is the process on the other end of a connection.
type Peer struct{ PID, UID, GID int }

// Field is one key/value fact of a Record. Value is a string, []byte, an
// integer, bool, float64, time.Duration, time.Time, error or
// fmt.Stringer; anything else is printed with fmt.Sprint.
type Field struct {
	Key   string
	Value any
}

// Encoder writes Records to a buffered writer. Write never flushes; the
// caller calls Flush when its input is idle, so a burst of records costs
// one system call.
type Encoder interface {
	Write(r *Record) error
	Flush() error
}

// Mode is an output format: Text, Raw or JSON.
type Mode int

const (
	// Text is one line per event or message, escaped as Escape does.
	Text Mode = iota
	// Raw is a payload's exact bytes, nothing added.
	Raw
	// JSON is one JSON object per line.
	JSON
)

// String returns the mode's name as ParseMode accepts it.
func (m Mode) String() string {
	switch m {
	case Raw:
		return "raw"
	case JSON:
		return "json"
	}
	return "text"
}

// ParseMode parses "text", "raw" or "json".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "text":
		return Text, nil
	case "raw":
		return Raw, nil
	case "json":
		return JSON, nil
	}
	return Text, fmt.Errorf("bad format %q: want text, raw or json", s)
}

// NewEncoder returns the event encoder for mode: a JSONEncoder for JSON, a
// TextEncoder otherwise (events have no raw form).
func NewEncoder(w io.Writer, mode Mode, opts ...Option) Encoder {
	if mode == JSON {
		return NewJSON(w, opts...)
	}
	return NewText(w, opts...)
}

// Option tunes an encoder or payload writer. Options that do not apply to
// one are ignored by it.
type Option func(*options)

type options struct {
	quiet  bool
	client string
	fields []Field
}

// WithQuiet makes an event encoder leave out the events that only tell
// how the service is doing (Lifecycle: listening, connection,
// disconnection), as --quiet asks: messages, timers and errors remain.
func WithQuiet(enabled bool) Option {
	return func(o *options) { o.quiet = enabled }
}

// Lifecycle reports whether event is one that WithQuiet leaves out.
func Lifecycle(event string) bool {
	switch event {
	case "listening", "connection", "disconnection":
		return true
	}
	return false
}

// skip reports whether the encoder configured by o leaves r out.
func (o *options) skip(r *Record) bool { return o.quiet && Lifecycle(r.Event) }

// WithClient makes a JSON payload writer add "client": id to every
// message object.
func WithClient(id string) Option {
	return func(o *options) { o.client = id }
}

// WithFields makes a JSON payload writer add fields to every message
// object, after the data.
func WithFields(fields ...Field) Option {
	return func(o *options) { o.fields = fields }
}

func buildOptions(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// recordTime returns the time to print for r.
func recordTime(r *Record) time.Time {
	if r.Time.IsZero() {
		return time.Now()
	}
	return r.Time
}

// appendTime appends t in TimeLayout, in UTC.
func appendTime(b []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(b, TimeLayout)
}

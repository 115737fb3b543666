package format

import (
	"fmt"
	"io"
	"strconv"
	"time"
)

// TextEncoder writes each Record as one tab-separated line (see the
// package doc). It is safe for concurrent use.
type TextEncoder struct {
	out  output
	opts options
}

// NewText returns a TextEncoder writing to w through a buffer.
func NewText(w io.Writer, opts ...Option) *TextEncoder {
	return &TextEncoder{out: newOutput(w), opts: buildOptions(opts)}
}

// Write buffers r as one line.
func (e *TextEncoder) Write(r *Record) error {
	if e.opts.skip(r) {
		return nil
	}
	return e.out.end(e.appendRecord(e.out.begin(), r))
}

// Flush writes out what is buffered.
func (e *TextEncoder) Flush() error { return e.out.flush() }

func (e *TextEncoder) appendRecord(b []byte, r *Record) []byte {
	b = appendEscaped(b, r.Event)
	b = append(b, '\t')
	if r.Client == "" {
		b = append(b, '-')
	} else {
		b = appendEscaped(b, r.Client)
	}
	b = append(b, '\t')
	b = appendTime(b, recordTime(r))
	b = append(b, '\t')
	b = appendEscaped(b, r.Data) // none and empty alike: an empty column
	if p := r.Peer; p != nil {
		b = appendTextInt(b, "pid", p.PID)
		b = appendTextInt(b, "uid", p.UID)
		b = appendTextInt(b, "gid", p.GID)
	}
	for _, f := range r.Fields {
		b = append(b, '\t')
		b = appendEscaped(b, f.Key)
		b = append(b, '=')
		b = appendTextValue(b, f.Value)
	}
	return append(b, '\n')
}

func appendTextInt(b []byte, key string, n int) []byte {
	b = append(b, '\t')
	b = append(b, key...)
	b = append(b, '=')
	return strconv.AppendInt(b, int64(n), 10)
}

// appendTextValue appends v escaped as Escape does, so that a field never
// breaks the line.
func appendTextValue(b []byte, v any) []byte {
	if out, ok := appendLiteral(b, v); ok {
		return out
	}
	switch v := v.(type) {
	case string:
		return appendEscaped(b, v)
	case []byte:
		return appendEscaped(b, v)
	case float64:
		return strconv.AppendFloat(b, v, 'g', -1, 64)
	case []string:
		for i, e := range v {
			if i > 0 {
				b = append(b, ' ')
			}
			b = appendEscaped(b, e)
		}
		return b
	case time.Duration:
		return append(b, v.String()...)
	case time.Time:
		return appendTime(b, v)
	case nil:
		return b
	}
	// fmt turns errors and Stringers into their text, and survives a
	// String method that panics on a nil receiver.
	return appendEscaped(b, fmt.Sprint(v))
}

// appendLiteral appends the integers and booleans that text and JSON
// write alike, and reports whether v was one.
func appendLiteral(b []byte, v any) ([]byte, bool) {
	switch v := v.(type) {
	case int:
		return strconv.AppendInt(b, int64(v), 10), true
	case int64:
		return strconv.AppendInt(b, v, 10), true
	case int32:
		return strconv.AppendInt(b, int64(v), 10), true
	case uint:
		return strconv.AppendUint(b, uint64(v), 10), true
	case uint64:
		return strconv.AppendUint(b, v, 10), true
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10), true
	case bool:
		return strconv.AppendBool(b, v), true
	}
	return b, false
}

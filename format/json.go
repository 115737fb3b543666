package format

import (
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// JSONEncoder writes each Record as one JSON object per line (see the
// package doc). It is safe for concurrent use.
type JSONEncoder struct {
	out  output
	opts options
}

// NewJSON returns a JSONEncoder writing to w through a buffer.
func NewJSON(w io.Writer, opts ...Option) *JSONEncoder {
	return &JSONEncoder{out: newOutput(w), opts: buildOptions(opts)}
}

// Write buffers r as one JSON object and a newline.
func (e *JSONEncoder) Write(r *Record) error {
	if e.opts.skip(r) {
		return nil
	}
	return e.out.end(appendJSONRecord(e.out.begin(), r))
}

// Flush writes out what is buffered.
func (e *JSONEncoder) Flush() error { return e.out.flush() }

func appendJSONRecord(b []byte, r *Record) []byte {
	b = append(b, `{"event":`...)
	b = appendJSONString(b, r.Event)
	if r.Client != "" {
		b = append(b, `,"client":`...)
		b = appendJSONString(b, r.Client)
	}
	b = append(b, `,"time":"`...)
	b = appendTime(b, recordTime(r))
	b = append(b, '"')
	if r.Data != nil {
		b = appendJSONData(b, r.Data)
	}
	if p := r.Peer; p != nil {
		b = append(b, `,"pid":`...)
		b = strconv.AppendInt(b, int64(p.PID), 10)
		b = append(b, `,"uid":`...)
		b = strconv.AppendInt(b, int64(p.UID), 10)
		b = append(b, `,"gid":`...)
		b = strconv.AppendInt(b, int64(p.GID), 10)
	}
	b = appendJSONFields(b, r.Fields)
	return append(b, '}', '\n')
}

// appendJSONData appends the payload as "data" when it is valid UTF-8,
// else as "data_b64" in standard base64, so no byte is ever lost.
func appendJSONData(b, data []byte) []byte {
	if utf8.Valid(data) {
		b = append(b, `,"data":`...)
		return appendJSONString(b, data)
	}
	b = append(b, `,"data_b64":"`...)
	b = base64.StdEncoding.AppendEncode(b, data)
	return append(b, '"')
}

func appendJSONFields(b []byte, fields []Field) []byte {
	for _, f := range fields {
		b = append(b, ',')
		if reservedKey(f.Key) {
			b = append(b, `"field_`...)
			b = append(b, appendJSONString(nil, f.Key)[1:]...) // without its opening quote
		} else {
			b = appendJSONString(b, f.Key)
		}
		b = append(b, ':')
		b = appendJSONValue(b, f.Value)
	}
	return b
}

// reservedKey reports whether key is one of the keys the encoder writes
// itself; a field of that name is written as "field_KEY", so that a
// built-in key never appears twice in an object.
func reservedKey(key string) bool {
	switch key {
	case "event", "client", "time", "data", "data_b64", "pid", "uid", "gid":
		return true
	}
	return strings.HasPrefix(key, "field_") && reservedKey(key[len("field_"):])
}

// appendJSONValue appends v: numbers and bools as JSON literals, a
// []string as an array of strings, anything else (durations, times,
// errors) as a string.
func appendJSONValue(b []byte, v any) []byte {
	if out, ok := appendLiteral(b, v); ok {
		return out
	}
	switch v := v.(type) {
	case string:
		return appendJSONString(b, v)
	case []byte:
		return appendJSONString(b, v)
	case float64:
		return appendJSONFloat(b, v)
	case []string:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, e)
		}
		return append(b, ']')
	case time.Duration:
		return appendJSONString(b, v.String())
	case time.Time:
		b = append(b, '"')
		return append(appendTime(b, v), '"')
	case nil:
		return append(b, "null"...)
	}
	return appendJSONString(b, fmt.Sprint(v))
}

// appendJSONFloat appends f as encoding/json would; NaN and infinities,
// which JSON cannot hold, become strings.
func appendJSONFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return appendJSONString(b, strconv.FormatFloat(f, 'g', -1, 64))
	}
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return strconv.AppendFloat(b, f, 'e', -1, 64)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// jsonPlain marks the bytes copied into a JSON string as they are.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendJSONString appends s as a JSON string (RFC 8259). Invalid UTF-8
// becomes U+FFFD, as with encoding/json; payloads that are not valid
// UTF-8 never get here (see appendJSONData).
func appendJSONString[T string | []byte](b []byte, s T) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && jsonPlain[s[j]] {
			j++
		}
		b = append(b, s[i:j]...)
		if j == len(s) {
			break
		}
		n := appendJSONOne(&b, s[j:])
		i = j + n
	}
	return append(b, '"')
}

// appendJSONOne appends the byte or UTF-8 sequence that starts s (which
// is not plain) and returns how many bytes it consumed.
func appendJSONOne[T string | []byte](dst *[]byte, s T) int {
	c := s[0]
	switch c {
	case '"', '\\':
		*dst = append(*dst, '\\', c)
		return 1
	case '\n':
		*dst = append(*dst, '\\', 'n')
		return 1
	case '\t':
		*dst = append(*dst, '\\', 't')
		return 1
	case '\r':
		*dst = append(*dst, '\\', 'r')
		return 1
	}
	if c < 0x20 {
		*dst = append(*dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		return 1
	}
	var buf [utf8.UTFMax]byte
	k := copy(buf[:], s)
	r, n := utf8.DecodeRune(buf[:k])
	if r == utf8.RuneError && n == 1 {
		*dst = append(*dst, `\ufffd`...)
		return 1
	}
	*dst = append(*dst, buf[:n]...)
	return n
}

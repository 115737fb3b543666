package bridge

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"sync"
	"unicode/utf8"

	"github.com/ipcctl/ipcctl/ipc"
)

// Framing says how a byte stream that is not a LibIPC peer is cut into
// messages on a bridge (the part LibIPC's switch callbacks play).
type Framing int

const (
	// FramingIPC is LibIPC's own: 4-byte big-endian length, then payload.
	FramingIPC Framing = iota
	// FramingLine is one message per line. A received line loses its "\n"
	// (and a "\r" before it); a sent message gets a "\n" appended.
	FramingLine
	// FramingRaw makes each read from the stream one message and writes
	// messages as they are, with nothing added: boundaries are not kept.
	FramingRaw
	// FramingJSON is one JSON object per line, {"data":"..."} for text or
	// {"data_b64":"..."} for any bytes, both ways.
	FramingJSON
)

var framingNames = [...]string{
	FramingIPC:  "ipc",
	FramingLine: "line",
	FramingRaw:  "raw",
	FramingJSON: "json",
}

// String returns the framing's name as --framing takes it.
func (f Framing) String() string {
	if f >= 0 && int(f) < len(framingNames) {
		return framingNames[f]
	}
	return "unknown"
}

// ParseFraming returns the framing named s: ipc, line, raw or json.
func ParseFraming(s string) (Framing, error) {
	for f, name := range framingNames {
		if s == name {
			return Framing(f), nil
		}
	}
	return 0, fmt.Errorf("unknown framing %q: use ipc, line, raw or json", s)
}

// Wrap turns a stream into a MessageConn with this framing, refusing
// received messages over max bytes (DefaultMaxSize when max <= 0).
func (f Framing) Wrap(rwc io.ReadWriteCloser, max int) ipc.MessageConn {
	if max <= 0 {
		max = ipc.DefaultMaxSize
	}
	switch f {
	case FramingLine:
		return NewLineConn(rwc, max)
	case FramingRaw:
		return NewRawConn(rwc, max)
	case FramingJSON:
		return NewJSONConn(rwc, max)
	}
	if nc, ok := rwc.(net.Conn); ok {
		return ipc.NewConn(nc, max)
	}
	return &frameConn{rwc: rwc, fr: ipc.NewFrameReader(rwc, max)}
}

// frameConn carries LibIPC frames over a stream that is not a net.Conn.
type frameConn struct {
	rwc io.ReadWriteCloser
	fr  *ipc.FrameReader
	wmu sync.Mutex
}

func (c *frameConn) ReadMessage() ([]byte, error) { return c.fr.ReadFrame() }

func (c *frameConn) WriteMessage(p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return ipc.WriteFrame(c.rwc, p)
}

func (c *frameConn) Close() error { return c.rwc.Close() }

// LineConn is a MessageConn of newline-terminated lines.
type LineConn struct {
	rwc io.ReadWriteCloser
	lr  *LineReader
	wmu sync.Mutex
}

// NewLineConn reads and writes lines on rwc; a received line longer than
// max bytes is an error wrapping ErrTooLarge.
func NewLineConn(rwc io.ReadWriteCloser, max int) *LineConn {
	return &LineConn{rwc: rwc, lr: NewLineReader(rwc, max)}
}

// ReadMessage returns the next line without its line ending.
func (c *LineConn) ReadMessage() ([]byte, error) { return c.lr.ReadLine() }

// WriteMessage writes p and a newline in one write. A "\n" inside p is
// written as is, so the peer sees more than one line.
func (c *LineConn) WriteMessage(p []byte) error {
	buf := make([]byte, 0, len(p)+1)
	buf = append(append(buf, p...), '\n')
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.rwc.Write(buf)
	return err
}

// Close closes the stream.
func (c *LineConn) Close() error { return c.rwc.Close() }

// LineReader splits a stream into lines of at most max bytes, never holding
// more than that (plus the line ending) in memory.
type LineReader struct {
	br  *bufio.Reader
	max int
}

// NewLineReader returns a reader of lines from r, each at most max bytes.
func NewLineReader(r io.Reader, max int) *LineReader {
	if max <= 0 {
		max = ipc.DefaultMaxSize
	}
	return &LineReader{br: bufio.NewReaderSize(r, min(max+2, 64<<10)), max: max}
}

// ReadLine returns the next line without "\n" or "\r\n". A last line
// without a newline is returned before io.EOF. A line longer than the limit
// is an error wrapping ErrTooLarge; the reader is not usable after it.
func (lr *LineReader) ReadLine() ([]byte, error) {
	var line []byte
	for {
		chunk, err := lr.br.ReadSlice('\n')
		if len(line)+len(chunk) > lr.max+2 {
			return nil, fmt.Errorf("%w: a line is longer than the limit of %d bytes", ipc.ErrTooLarge, lr.max)
		}
		line = append(line, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && (err != io.EOF || len(line) == 0) {
			return nil, err
		}
		break
	}
	if l, ok := bytes.CutSuffix(line, []byte("\n")); ok {
		line = bytes.TrimSuffix(l, []byte("\r"))
	}
	if len(line) > lr.max {
		return nil, fmt.Errorf("%w: a line is longer than the limit of %d bytes", ipc.ErrTooLarge, lr.max)
	}
	return line, nil
}

// RawConn is a MessageConn where each read from the stream is a message.
type RawConn struct {
	rwc io.ReadWriteCloser
	buf []byte
}

// NewRawConn reads rwc in chunks of at most max bytes.
func NewRawConn(rwc io.ReadWriteCloser, max int) *RawConn {
	return &RawConn{rwc: rwc, buf: make([]byte, min(max, 64<<10))}
}

// ReadMessage returns what one read of the stream gave.
func (c *RawConn) ReadMessage() ([]byte, error) {
	for {
		n, err := c.rwc.Read(c.buf)
		if n > 0 {
			return bytes.Clone(c.buf[:n]), nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// WriteMessage writes p as is.
func (c *RawConn) WriteMessage(p []byte) error {
	_, err := c.rwc.Write(p)
	return err
}

// Close closes the stream.
func (c *RawConn) Close() error { return c.rwc.Close() }

// JSONConn is a MessageConn of JSON objects, one per line.
type JSONConn struct {
	rwc io.ReadWriteCloser
	lr  *LineReader
	max int
	wmu sync.Mutex
}

// jsonMessage is one message as a JSON line carries it.
type jsonMessage struct {
	Data    *string `json:"data,omitempty"`
	DataB64 *string `json:"data_b64,omitempty"`
}

// NewJSONConn reads and writes JSON lines on rwc, refusing payloads over
// max bytes.
func NewJSONConn(rwc io.ReadWriteCloser, max int) *JSONConn {
	// JSON escaping makes a line up to 6 times its payload (\u00XX).
	return &JSONConn{rwc: rwc, lr: NewLineReader(rwc, 6*max+64), max: max}
}

// ReadMessage returns the payload of the next non-blank line.
func (c *JSONConn) ReadMessage() ([]byte, error) {
	for {
		line, err := c.lr.ReadLine()
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		return DecodeJSONMessage(line, c.max)
	}
}

// DecodeJSONMessage returns the payload of one JSON line,
// {"data":"text"} or {"data_b64":"base64"}. Errors wrap ErrBadData, or
// ErrTooLarge for a payload over max bytes.
func DecodeJSONMessage(line []byte, max int) ([]byte, error) {
	var m jsonMessage
	if err := json.Unmarshal(line, &m); err != nil {
		return nil, fmt.Errorf("%w: not a JSON message object: %v", ipc.ErrBadData, err)
	}
	var p []byte
	switch {
	case m.Data != nil && m.DataB64 != nil:
		return nil, fmt.Errorf("%w: a JSON message has both data and data_b64", ipc.ErrBadData)
	case m.Data != nil:
		p = []byte(*m.Data)
	case m.DataB64 != nil:
		var err error
		if p, err = base64.StdEncoding.DecodeString(*m.DataB64); err != nil {
			return nil, fmt.Errorf("%w: data_b64 is not base64: %v", ipc.ErrBadData, err)
		}
	default:
		return nil, fmt.Errorf(`%w: a JSON message needs "data" or "data_b64"`, ipc.ErrBadData)
	}
	if len(p) > max {
		return nil, fmt.Errorf("%w: a %d-byte message, limit is %d", ipc.ErrTooLarge, len(p), max)
	}
	return p, nil
}

// AppendJSONMessage appends p as one JSON line: "data" when p is valid
// UTF-8, else "data_b64".
func AppendJSONMessage(dst, p []byte) []byte {
	var m jsonMessage
	s := string(p)
	if utf8.Valid(p) {
		m.Data = &s
	} else {
		s = base64.StdEncoding.EncodeToString(p)
		m.DataB64 = &s
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(m) // cannot fail on strings; Encode adds the newline
	return append(dst, buf.Bytes()...)
}

// WriteMessage writes p as one JSON line.
func (c *JSONConn) WriteMessage(p []byte) error {
	line := AppendJSONMessage(nil, p)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.rwc.Write(line)
	return err
}

// Close closes the stream.
func (c *JSONConn) Close() error { return c.rwc.Close() }

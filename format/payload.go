package format

import (
	"io"
	"time"
)

// PayloadWriter prints the payloads of received messages, for the
// commands that print payloads rather than events (send --wait, listen,
// connect). It is safe for concurrent use.
type PayloadWriter struct {
	out  output
	mode Mode
	opts options
}

// NewPayloadWriter returns a PayloadWriter writing to w through a buffer
// in mode: Text prints each message escaped on its own line, Raw its exact
// bytes with nothing added, JSON one {"event":"message",...} object per
// line. WithClient and WithFields add to the JSON objects.
func NewPayloadWriter(w io.Writer, mode Mode, opts ...Option) *PayloadWriter {
	return &PayloadWriter{out: newOutput(w), mode: mode, opts: buildOptions(opts)}
}

// WriteMessage buffers one message. A nil p is an empty message.
func (pw *PayloadWriter) WriteMessage(p []byte) error {
	switch pw.mode {
	case Raw:
		return pw.out.write(p)
	case JSON:
		return pw.out.end(pw.appendJSON(pw.out.begin(), p))
	}
	b := appendEscaped(pw.out.begin(), p)
	return pw.out.end(append(b, '\n'))
}

// WriteMessageStyled is WriteMessage with the text line passed through
// style (a Style method, say) before its newline. Raw and JSON output are
// never styled, as colour codes would corrupt them.
func (pw *PayloadWriter) WriteMessageStyled(p []byte, style func(string) string) error {
	if pw.mode != Text || style == nil {
		return pw.WriteMessage(p)
	}
	line := style(string(Escape(nil, p)))
	b := append(pw.out.begin(), line...)
	return pw.out.end(append(b, '\n'))
}

// Flush writes out what is buffered.
func (pw *PayloadWriter) Flush() error { return pw.out.flush() }

func (pw *PayloadWriter) appendJSON(b, p []byte) []byte {
	r := Record{
		Event:  "message",
		Client: pw.opts.client,
		Time:   time.Now(),
		Data:   Payload(p),
		Fields: pw.opts.fields,
	}
	return appendJSONRecord(b, &r)
}

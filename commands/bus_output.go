package commands

import (
	"fmt"
	"io"

	"github.com/ipcctl/ipcctl/format"
	"github.com/ipcctl/ipcctl/ipc/bus"
)

// busPrinter prints what arrives from a bus. In text and raw mode only
// payloads reach stdout; with --format json, or when events were asked for
// (listen --presence), every message, presence notice and readiness is an
// event: in JSON a message carries "from", "group" (or "to") and "call";
// in text the sender's address is the client column.
type busPrinter struct {
	payloads *format.PayloadWriter // text and raw payloads; nil when events
	events   format.Encoder        // JSON or text events; nil when payloads
	json     bool
	stderr   io.Writer
	quiet    bool
}

// newBusPrinter returns the printer of a bus client: events when the
// global --format is json or events is set, else payloads (raw or text).
func newBusPrinter(g Globals, raw, events bool) *busPrinter {
	p := &busPrinter{json: g.JSON, stderr: g.Stderr, quiet: g.Quiet}
	if g.JSON || events && !raw {
		p.events = format.NewEncoder(g.Stdout, g.Mode())
		return p
	}
	p.payloads = format.NewPayloadWriter(g.Stdout, payloadMode(g, raw))
	return p
}

// message prints a message (or an answer) received from the bus.
func (p *busPrinter) message(h *bus.Header, body []byte) error {
	if p.events == nil {
		return p.payloads.WriteMessage(body)
	}
	r := format.Record{Event: "message", Data: format.Payload(body)}
	if p.json {
		r.Fields = append(r.Fields, format.Field{Key: "from", Value: h.From})
	} else {
		r.Client = h.From
	}
	r.Fields = append(r.Fields, addressing(h)...)
	return p.events.Write(&r)
}

// addressing returns the fields that say how a message was addressed.
func addressing(h *bus.Header) []format.Field {
	var f []format.Field
	switch {
	case h.Group != "":
		f = append(f, format.Field{Key: "group", Value: h.Group})
	case h.To != "":
		f = append(f, format.Field{Key: "to", Value: h.To})
	}
	if h.Call != 0 {
		f = append(f, format.Field{Key: "call", Value: h.Call})
	}
	return f
}

// presence prints a presence notice as an event. They are printed only as
// events, never as payloads.
func (p *busPrinter) presence(h *bus.Header) error {
	if p.events == nil {
		return nil
	}
	r := format.Record{Event: presenceEvent(h.Event), Client: h.Addr, Peer: peerOf(h)}
	if h.Group != "" {
		r.Fields = append(r.Fields, format.Field{Key: "group", Value: h.Group})
	}
	r.Fields = append(r.Fields, format.Field{Key: "groups", Value: nonNil(h.Groups)})
	if h.Bus != "" {
		r.Fields = append(r.Fields, format.Field{Key: "bus", Value: h.Bus})
	}
	return p.events.Write(&r)
}

// presenceEvent names a presence notice as ipcctl's events are named.
func presenceEvent(e string) string {
	switch e {
	case "connect":
		return "connection"
	case "disconnect":
		return "disconnection"
	}
	return e
}

// peerOf returns the credentials a notice carries, or nil.
func peerOf(h *bus.Header) *format.Peer {
	if h.PID == 0 && h.UID == nil && h.GID == nil {
		return nil
	}
	p := &format.Peer{PID: h.PID}
	if h.UID != nil {
		p.UID = *h.UID
	}
	if h.GID != nil {
		p.GID = *h.GID
	}
	return p
}

// subscribed prints the readiness of a subscriber: one "subscribed" event
// with its address and groups, once every subscription is in place. As
// "listening" for serve, -q leaves it out.
func (p *busPrinter) subscribed(addr string, groups []string) error {
	if p.events == nil || p.quiet {
		return nil
	}
	return p.events.Write(&format.Record{Event: "subscribed", Client: addr,
		Fields: []format.Field{{Key: "groups", Value: nonNil(groups)}}})
}

// dropped reports messages the bus discarded for this client: an event
// when printing events, else a warning on stderr.
func (p *busPrinter) dropped(h *bus.Header) error {
	if p.events != nil {
		return p.events.Write(&format.Record{Event: "dropped",
			Fields: []format.Field{{Key: "count", Value: h.Count}}})
	}
	if !p.quiet {
		fmt.Fprintf(p.stderr, "ipcctl: warning: the bus dropped %d messages for this client, which read too slowly\n", h.Count)
	}
	return nil
}

// Flush writes out what is buffered.
func (p *busPrinter) Flush() error {
	if p.events != nil {
		return p.events.Flush()
	}
	return p.payloads.Flush()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

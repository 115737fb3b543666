package natsbus

import (
	"strconv"
	"strings"

	"github.com/ipcctl/ipcctl/ipc/bus"
	"github.com/nats-io/nats.go"
)

// natsFrom is the sender of what a plain NATS client (not a bus) sends.
const natsFrom = "@nats"

// onGroup hands a message published to a group's subject to the group's
// local members.
func (f *Fed) onGroup(m *nats.Msg) {
	in := f.inbound(m)
	in.Group = strings.TrimPrefix(m.Subject, f.dot)
	if m.Reply != "" && m.Header.Get(hdrEach) != "" {
		f.onEachCall(in, m.Reply)
		*in = bus.Inbound{}
		return
	}
	f.bus.LinkDeliver(in)
	*in = bus.Inbound{}
}

// onAddr hands a message for an address of this bus to its client, or
// answers the state of the bus to another bus that asks.
func (f *Fed) onAddr(m *nats.Msg) {
	if m.Header.Get(hdrOp) == "state" {
		f.answerState(m)
		return
	}
	in := f.inbound(m)
	in.To = m.Header.Get(hdrTo)
	if in.To == "" {
		return
	}
	if f.bus.LinkDeliver(in) == 0 && m.Reply != "" {
		f.send(&nats.Msg{Subject: m.Reply, Header: nats.Header{hdrUndeliverable: {in.To + "@" + f.id}}})
	}
}

// inbound reads who sent m and, for a request, its call id: a plain NATS
// client's request gets an id of its own. It returns the link's one
// Inbound, which LinkDeliver does not keep.
func (f *Fed) inbound(m *nats.Msg) *bus.Inbound {
	in := &f.in
	if from, ok := f.from(m.Reply); ok {
		*in = bus.Inbound{From: from, Body: m.Data}
		return in
	}
	*in = bus.Inbound{From: m.Header.Get(hdrFrom), Body: m.Data}
	if !bus.Remote(in.From) {
		in.From = natsFrom
	}
	if m.Reply == "" {
		return in
	}
	in.Reply = m.Reply
	id, err := strconv.ParseUint(m.Header.Get(hdrCall), 10, 64)
	if err != nil || id == 0 || in.From == natsFrom {
		f.lastIn++
		id, in.From = f.lastIn, natsFrom
	}
	in.Call = id
	return in
}

// onReply settles a call of a local client with what came to the inbox:
// an answer, "lost", undeliverable (also NATS's no responders), or the
// state of another bus.
func (f *Fed) onReply(m *nats.Msg) {
	token := m.Subject[strings.LastIndexByte(m.Subject, '.')+1:]
	if strings.HasPrefix(token, "s") {
		f.onState(token[1:], m)
		return
	}
	p := f.calls[token]
	if p == nil {
		return
	}
	if p.each != nil {
		f.onEachReply(token, p, m)
		return
	}
	if m.Header.Get(hdrLost) != "" && f.lostOne(token, m) {
		return // another bus may still answer
	}
	delete(f.calls, token)
	from := m.Header.Get(hdrFrom)
	switch {
	case noResponders(m):
		f.bus.LinkUndeliverable(p.caller, p.id)
	case m.Header.Get(hdrUndeliverable) != "":
		f.bus.LinkUndeliverable(p.caller, p.id)
	case m.Header.Get(hdrLost) != "":
		f.bus.LinkLost(p.caller, p.id, from, m.Header.Get(hdrLost))
	default:
		if !bus.Remote(from) {
			from = natsFrom
		}
		f.bus.LinkAnswer(p.caller, p.id, from, answerHeader(m), m.Data)
	}
}

// noResponders reports whether m is NATS's status telling that nobody
// subscribes to the subject of a request.
func noResponders(m *nats.Msg) bool {
	return len(m.Data) == 0 && m.Header.Get("Status") == "503"
}

// answerHeader is the header of the answer m: the callee's error and
// exit status, when it told them.
func answerHeader(m *nats.Msg) *bus.Header {
	h := &bus.Header{Error: m.Header.Get(hdrError)}
	if st, err := strconv.Atoi(m.Header.Get(hdrStatus)); err == nil {
		h.Status = &st
	}
	return h
}

// from returns the sender ADDR@ID that a reply subject
// PREFIX.@from.ID.ADDR names (see sender), and whether it is one; the
// senders heard of are kept, so that a message does not make its
// sender's address again.
func (f *Fed) from(reply string) (string, bool) {
	if from, ok := f.froms[reply]; ok {
		return from, true
	}
	rest, ok := strings.CutPrefix(reply, f.fromDot)
	if !ok {
		return "", false
	}
	id, addr, ok := strings.Cut(rest, ".")
	if !ok || !validToken(id) || !validToken(addr) || strings.ContainsRune(rest, '@') {
		return "", false
	}
	if len(f.froms) >= maxKept {
		clear(f.froms)
	}
	from := addr + "@" + id
	f.froms[reply] = from
	return from, true
}

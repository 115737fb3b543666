package natsbus

import (
	"strconv"
	"strings"
	"time"

	"github.com/ipcctl/ipcctl/ipc/bus"
	"github.com/nats-io/nats.go"
)

// The headers of the messages between buses (docs/protocol.md).
const (
	hdrFrom          = "Ipcctl-From"          // the sender's address, ADDR@ID
	hdrTo            = "Ipcctl-To"            // the recipient's address on the bus of the subject
	hdrCall          = "Ipcctl-Call"          // the caller's call id
	hdrError         = "Ipcctl-Error"         // an answer's error
	hdrStatus        = "Ipcctl-Status"        // an answer's exit status
	hdrLost          = "Ipcctl-Lost"          // a reply: the callee went away, for this reason
	hdrUndeliverable = "Ipcctl-Undeliverable" // a reply: nobody has that address
	hdrBus           = "Ipcctl-Bus"           // the id of the bus that sends
	hdrLabel         = "Ipcctl-Label"         // its label, HOST/NAME
	hdrOp            = "Ipcctl-Op"            // beat, bye, state
)

// MaxPending bounds the calls this bus waits answers for from NATS; an
// older call than callTTL is forgotten.
const (
	MaxPending = 65536
	callTTL    = 10 * time.Minute
)

// pending is a call of a local client passed on to NATS.
type pending struct {
	caller string
	id     uint64
	to     string // the address called, if not a group
	since  time.Time
	each   *gather // for a call with each
}

// Subject returns the subject of group g, and whether g has one: a group
// with an empty token ("a..b"), a wildcard token or a leading "@" stays
// on its bus. The subjects of the groups the bus publishes to are kept,
// so that a message does not make its subject again.
func (f *Fed) Subject(g string) (string, bool) {
	if s, ok := f.subjects[g]; ok {
		return s, s != ""
	}
	s := ""
	if subjectToken(g) {
		s = f.opts.Prefix + "." + g
	}
	if len(f.subjects) >= maxKept {
		clear(f.subjects)
	}
	f.subjects[g] = s
	return s, s != ""
}

// subjectToken reports whether group g can be the last tokens of a
// subject.
func subjectToken(g string) bool {
	if bus.Own(g) {
		return false
	}
	for rest, more := g, true; more; {
		var tok string
		tok, rest, more = strings.Cut(rest, ".")
		if tok == "" || strings.ContainsAny(tok, "*>") {
			return false
		}
	}
	return true
}

// Interest subscribes to a group's subject while it has local members.
func (f *Fed) Interest(g string, on bool) {
	subj, ok := f.Subject(g)
	if !ok || f.closed {
		return
	}
	if !on {
		if s := f.subs[g]; s != nil {
			f.reportDrops()
			delete(f.seen, s)
			s.Unsubscribe()
			delete(f.subs, g)
		}
		return
	}
	if f.subs[g] != nil {
		return
	}
	s, err := f.nc.Subscribe(subj, f.receiver(kindGroup))
	if err != nil {
		f.report(Event{Kind: KindError, Err: err})
		return
	}
	f.subs[g] = s
}

// Publish passes on a local message to a group or an address of another
// bus. A message to a group names its sender by its reply subject alone
// (see sender), without headers, which cost the NATS clients of both
// buses more than the rest of the message. Until the NATS client has
// connected, a message to an address has no bus to go to (see known).
func (f *Fed) Publish(m *bus.Outbound) bool {
	if m.Group != "" {
		subj, ok := f.Subject(m.Group)
		return ok && f.pub.send(subj, f.sender(m.From), nil, m.Body)
	}
	subj, h, ok := f.route(m)
	return ok && f.known() && f.pub.send(subj, "", h, m.Body)
}

// route returns the subject and headers of the NATS message of a call,
// or of a message to an address, and false when it has no subject.
func (f *Fed) route(m *bus.Outbound) (string, nats.Header, bool) {
	var subj string
	h := nats.Header{hdrFrom: {m.From + "@" + f.id}}
	if m.Group != "" {
		s, ok := f.Subject(m.Group)
		if !ok {
			return "", nil, false
		}
		subj = s
	} else {
		addr, id, ok := strings.Cut(m.To, "@")
		if !ok || addr == "" || !validToken(id) {
			return "", nil, false
		}
		subj = f.opts.Prefix + ".@addr." + id
		h.Set(hdrTo, addr)
	}
	if m.Call != 0 {
		h.Set(hdrCall, strconv.FormatUint(m.Call, 10))
	}
	return subj, h, true
}

// sender returns the reply subject of the messages to groups of the
// local client addr: PREFIX.@from.ID.ADDR, made once for each sender.
// Nothing subscribes to it; it tells who sent a message, which a plain
// NATS subscriber sees too.
func (f *Fed) sender(addr string) string {
	if s := f.senders[addr]; s != "" {
		return s
	}
	if len(f.senders) >= maxKept {
		clear(f.senders)
	}
	s := f.fromDot + f.id + "." + addr
	f.senders[addr] = s
	return s
}

// maxKept bounds the senders and the groups whose subjects are kept, on
// either side.
const maxKept = 1024

// validToken reports whether s can be one token of a subject.
func validToken(s string) bool {
	return s != "" && !strings.ContainsAny(s, ".*> \t\r\n")
}

// send queues msg to be published, and reports whether it could. What
// NATS refuses later (its reconnect buffer is full, it is over the
// server's max_payload) is counted lost too.
func (f *Fed) send(msg *nats.Msg) bool {
	return f.pub.send(msg.Subject, msg.Reply, msg.Header, msg.Data)
}

// Call passes on a local call as a NATS request, whose answers come to
// the bus's inbox. Until the NATS client has connected no other bus can
// answer (see known): the caller is told at once.
func (f *Fed) Call(m *bus.Outbound) bool {
	subj, h, ok := f.route(m)
	if !ok || !f.known() || len(f.calls) >= MaxPending {
		return false
	}
	f.lastCall++
	token := "c" + strconv.FormatUint(f.lastCall, 10)
	if m.Each {
		h.Set(hdrEach, "true")
	}
	if !f.pub.send(subj, f.inbox+"."+token, h, m.Body) {
		return false
	}
	p := &pending{caller: m.From, id: m.Call, to: m.To, since: time.Now()}
	if m.Each {
		p.each = f.newGather(m.Group)
		f.gathers[token] = p
	}
	f.calls[token] = p
	f.await(token, p, m)
	return true
}

// Answer sends a local callee's answer to the caller's reply subject.
func (f *Fed) Answer(reply any, m *bus.Outbound) {
	h := nats.Header{hdrFrom: {m.From + "@" + f.id}, hdrCall: {strconv.FormatUint(m.Call, 10)}}
	if m.Error != "" {
		h.Set(hdrError, m.Error)
	}
	if m.Status != nil {
		h.Set(hdrStatus, strconv.Itoa(*m.Status))
	}
	f.pub.send(reply.(string), "", h, m.Body)
}

// Lost tells the caller of a call from NATS that its callee from went
// away before answering.
func (f *Fed) Lost(reply any, from, reason string) {
	f.send(&nats.Msg{Subject: reply.(string), Header: nats.Header{
		hdrFrom: {from + "@" + f.id}, hdrLost: {reason}}})
}

// expire forgets the calls that waited longer than callTTL: their
// callers gave up long ago.
func (f *Fed) expire(now time.Time) {
	for token, p := range f.calls {
		if now.Sub(p.since) > callTTL {
			delete(f.calls, token)
			if p.each != nil {
				delete(f.gathers, token)
				f.bus.LinkCallEnd(p.caller, p.id)
			}
		}
	}
}

// reportLost reports the publishes that failed since the last report.
func (f *Fed) reportLost() {
	if n, err := f.pub.taken(); n > 0 {
		f.report(Event{Kind: KindLost, Count: n, Dir: "out", Err: err})
	}
}

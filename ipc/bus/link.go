package bus

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// Link joins a bus to other buses (package natsbus joins them over
// NATS). The bus calls it from the goroutine that calls Handle, and the
// link hands what comes from the other buses back through the Bus's
// Link* methods, from that same goroutine.
//
// An address on another bus holds an "@" ("c3@k2J9"); the bus's own
// addresses never do, so any "to" with an "@" goes to the link.
type Link interface {
	// Interest tells that group g got its first member on this bus (on)
	// or lost its last one.
	Interest(g string, on bool)
	// Publish passes on a message of a local client to a group, or to an
	// address of another bus, and reports whether it could.
	Publish(m *Outbound) bool
	// Call passes on a call of a local client that no local client could
	// take: to a group without members here, or to an address of another
	// bus. The link settles it later with LinkAnswer, LinkLost or
	// LinkUndeliverable, and reports whether it could pass it on.
	Call(m *Outbound) bool
	// Answer passes on a local client's answer to a call that came from
	// the link (Inbound.Reply).
	Answer(reply any, m *Outbound)
	// Lost tells the caller of a call that came from the link that a
	// local callee went away without answering (reason as in "lost").
	Lost(reply any, from, reason string)
	// Presence passes on a presence notice about a local client.
	Presence(h *Header)
	// Members returns the clients of the other buses that the link knows
	// of (the members of group g only, when g is not ""), each with its
	// Bus, in any order.
	Members(g string) []Member
}

// Outbound is what a local client sends to the other buses. It is lent
// until the Link method returns.
type Outbound struct {
	From  string // the local sender's address
	Group string
	To    string
	Call  uint64
	// Each makes a call to a group await every member's answer on the
	// other buses: the link names them with LinkCalls, passes on every
	// answer and loss, and ends its part with LinkCallEnd.
	Each  bool
	Error string
	// Status is an answer's exit status, if it carries one.
	Status *int
	Body   []byte
}

// Inbound is a message or call from another bus (or any peer of the
// link) for the local clients.
type Inbound struct {
	From  string // the sender's address ("c3@k2J9"), with an "@"
	Group string
	To    string // a local address, when not to a group
	// Call, when not 0, makes it a call: local callees' answers go back
	// to the link with Reply.
	Call  uint64
	Reply any
	Body  []byte
}

// MaxLinkCalls bounds the calls from the link that wait for local
// callees' answers; past it, a call from the link reaches nobody.
const MaxLinkCalls = 65536

// Remote reports whether addr is an address on another bus.
func Remote(addr string) bool { return strings.IndexByte(addr, '@') >= 0 }

// remoteOrder orders the addresses of other buses' clients, ADDR@ID, as
// listings show them: by bus id, then in the order the bus gave them.
func remoteOrder(a, b string) int {
	addrA, idA, _ := strings.Cut(a, "@")
	addrB, idB, _ := strings.Cut(b, "@")
	if c := cmp.Compare(idA, idB); c != 0 {
		return c
	}
	seqA, _ := addrSeq(addrA)
	seqB, _ := addrSeq(addrB)
	if c := cmp.Compare(seqA, seqB); c != 0 {
		return c
	}
	return cmp.Compare(addrA, addrB)
}

// remoteMembers returns the link's members of group g (every client of
// the other buses when g is ""), those after the remote address after
// when it is not "", in listing order.
func (b *Bus) remoteMembers(g, after string) []Member {
	if b.opts.Link == nil {
		return nil
	}
	ms := b.opts.Link.Members(g)
	if after != "" {
		ms = slices.DeleteFunc(ms, func(m Member) bool { return remoteOrder(m.Addr, after) <= 0 })
	}
	slices.SortFunc(ms, func(x, y Member) int { return remoteOrder(x.Addr, y.Addr) })
	return ms
}

// LinkDeliver hands a message or call from the link to the local clients
// it is for, and reports how many it reached. A call that reaches nobody
// is not recorded. Messages are batched: call LinkFlush after the last
// of a burst.
func (b *Bus) LinkDeliver(in *Inbound) int {
	var to []*client
	if in.Group != "" {
		to = b.groups[in.Group]
	} else if m := b.byAddr[in.To]; m != nil {
		to = []*client{m}
	}
	if len(to) == 0 || in.Call != 0 && len(b.inbound) >= MaxLinkCalls {
		return 0
	}
	if in.Call == 0 {
		b.env = Header{Op: "msg", From: in.From, Group: in.Group, To: in.To}
		return b.linkBatch(&b.env, in.Body, to)
	}
	return len(b.deliverCall(in, to, false))
}

// deliverCall delivers a call from the link to its recipients, records
// it, and returns those it reached. With each, every callee's answer and
// loss goes back to the link; else the first answer ends it.
func (b *Bus) deliverCall(in *Inbound, to []*client, each bool) []*client {
	env := &Header{Op: "msg", From: in.From, Group: in.Group, To: in.To, Call: in.Call}
	out, err := appendEnvelope(b.out[:0], env, in.Body)
	if err != nil {
		return nil
	}
	b.out = out
	c := &call{id: in.Call, from: in.From, reply: in.Reply, group: in.Group, each: each, callees: make(map[*client]struct{})}
	var reached []*client
	for _, m := range to {
		if _, twice := c.callees[m]; twice || !b.deliver(m, out) {
			continue
		}
		reached = append(reached, m)
		c.callees[m] = struct{}{}
		m.owes[c] = struct{}{}
	}
	if len(reached) > 0 {
		if old := b.inbound[inboundKey(in.From, in.Call)]; old != nil {
			b.endCall(old)
		}
		b.inbound[inboundKey(in.From, in.Call)] = c
	}
	return reached
}

// linkBatch batches a message from the link for its recipients, as a
// local message is: LinkFlush queues the batch.
func (b *Bus) linkBatch(env *Header, body []byte, to []*client) int {
	start, end, err := b.batchFrame(env, body)
	if err != nil {
		return 0
	}
	for _, m := range to {
		b.enbatch(m, start, end)
	}
	b.linkSending = true
	if len(b.batch) >= batchBytes {
		b.flush()
	}
	return len(to)
}

// LinkFlush queues what LinkDeliver batched: the link calls it once it
// has handed over what it had.
func (b *Bus) LinkFlush() {
	if len(b.touched) > 0 {
		b.flush()
	}
}

// inboundKey names a call from the link by its caller and id.
func inboundKey(from string, id uint64) callKey { return callKey{from, id} }

// callKey names a call from the link.
type callKey struct {
	from string
	id   uint64
}

// LinkAnswer hands an answer from another bus to the local caller to: a
// call it passed on with Call ends with its first answer (every answer
// is passed on all the same, as on the bus).
func (b *Bus) LinkAnswer(to string, id uint64, from string, h *Header, body []byte) {
	caller := b.remoteCall(to, id, from)
	if caller == nil {
		caller = b.byAddr[to] // a late answer: passed on all the same
	}
	if caller == nil {
		return
	}
	out, err := appendEnvelope(b.out[:0], &Header{Op: "answer", From: from, Call: id, Error: h.Error, Status: h.Status}, body)
	if err != nil {
		return
	}
	b.out = out
	b.deliver(caller, out)
}

// LinkLost tells the local caller to that its call id passed on to the
// link lost its callee from (reason as in "lost").
func (b *Bus) LinkLost(to string, id uint64, from, reason string) {
	if caller := b.remoteCall(to, id, from); caller != nil {
		b.notify(caller, &Header{Op: "lost", Call: id, From: from, Reason: reason})
	}
}

// LinkUndeliverable tells the local caller to that its call id passed on
// to the link reached nobody.
func (b *Bus) LinkUndeliverable(to string, id uint64) {
	caller, c := b.madeCall(to, id)
	if c == nil || !c.remote {
		return
	}
	delete(caller.made, id)
	b.notify(caller, &Header{Op: "undeliverable", Group: c.group, To: c.to, Call: id})
}

// madeCall returns the local client to and its call id, or nils.
func (b *Bus) madeCall(to string, id uint64) (*client, *call) {
	caller := b.byAddr[to]
	if caller == nil {
		return nil, nil
	}
	return caller, caller.made[id]
}

// remoteCall ends the call id of local client to that was passed on to
// the link, settled by callee from, and returns its caller (nil when
// there is no such call). The link settles a call with the first answer
// or loss: a caller that asked for each is told that from is the callee
// it reached ("calls").
func (b *Bus) remoteCall(to string, id uint64, from string) *client {
	caller, c := b.madeCall(to, id)
	if c != nil && c.linked {
		return caller // each answer and loss is passed on; the link ends it
	}
	if c == nil || !c.remote {
		return nil
	}
	delete(caller.made, id)
	if c.each {
		b.notify(caller, &Header{Op: "calls", Call: id, Callees: []string{from}})
	}
	return caller
}

// LinkPresence hands a presence notice about a client of another bus to
// the local subscribers of the presence group.
func (b *Bus) LinkPresence(h *Header) {
	b.announce(h)
}

// LinkMembers returns the bus's clients as a listing shows them, in
// connection order, for a link that tells the other buses who is here.
func (b *Bus) LinkMembers() []Member {
	of := make([]*client, 0, len(b.byAddr))
	for _, m := range b.byAddr {
		of = append(of, m)
	}
	slices.SortFunc(of, func(x, y *client) int { return cmp.Compare(x.seq, y.seq) })
	members := make([]Member, 0, len(of))
	for _, m := range of {
		p := m.conn.Peer()
		members = append(members, Member{Addr: m.addr, Groups: append([]string{}, m.groups...), PID: p.PID, UID: p.UID, GID: p.GID})
	}
	return members
}

// Groups returns the groups that have members on this bus.
func (b *Bus) Groups() []string {
	gs := make([]string, 0, len(b.groups))
	for g := range b.groups {
		gs = append(gs, g)
	}
	return gs
}

// interest tells the link that g got its first member, or lost its last.
func (b *Bus) interest(g string, on bool) {
	if b.opts.Link != nil {
		b.opts.Link.Interest(g, on)
	}
}

// linkCall passes a call that no local client can take on to the link,
// and reports whether it did.
func (b *Bus) linkCall(cl *client, h *Header, body []byte) bool {
	if b.opts.Link == nil || (h.To != "" && !Remote(h.To)) {
		return false
	}
	if !b.opts.Link.Call(&Outbound{From: cl.addr, Group: h.Group, To: h.To, Call: h.Call, Body: body}) {
		return false
	}
	cl.made[h.Call] = &call{caller: cl, id: h.Call, group: h.Group, to: h.To, each: h.Each, remote: true}
	return true
}

// linkAnswer passes a local client's answer to a caller of another bus on
// to the link, and reports whether it was a call the link brought.
func (b *Bus) linkAnswer(cl *client, h *Header, body []byte, at time.Time) bool {
	if !Remote(h.To) || b.opts.Link == nil {
		return false
	}
	c := b.inbound[inboundKey(h.To, h.Call)]
	if c == nil {
		return false
	}
	if _, ok := c.callees[cl]; ok && !c.each {
		b.endCall(c)
	} else if ok {
		delete(c.callees, cl)
		delete(cl.owes, c)
		if len(c.callees) == 0 {
			b.unrecord(c)
		}
	}
	b.reportMessage(KindAnswer, cl, h, body, at)
	b.opts.Link.Answer(c.reply, &Outbound{From: cl.addr, To: h.To, Call: h.Call, Error: h.Error, Status: h.Status, Body: body})
	return true
}

package bus

import (
	"cmp"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// message handles one envelope from a client.
func (b *Bus) message(cl *client, p []byte, at time.Time) {
	h, body, err := decode(p, MaxHeader, &cl.names)
	if err == nil {
		err = b.op(cl, &h, body, at)
	}
	if err != nil {
		b.malformed(cl, err, at)
	}
}

// op carries out one decoded envelope. An error is a malformed envelope.
func (b *Bus) op(cl *client, h *Header, body []byte, at time.Time) error {
	switch h.Op {
	case "sub":
		return b.subscribe(cl, h.Group, at)
	case "unsub":
		return b.unsubscribe(cl, h.Group, at)
	case "msg":
		return b.msg(cl, h, body, at)
	case "answer":
		return b.answer(cl, h, body, at)
	case "list":
		return b.list(cl, h)
	}
	return errorf("unknown op %q (want sub, unsub, msg, answer or list)", h.Op)
}

// subscribe adds cl to group g, acknowledges it, and tells the presence
// group when it is new.
func (b *Bus) subscribe(cl *client, g string, at time.Time) error {
	if err := ValidGroup(g); err != nil {
		return err
	}
	i, found := slices.BinarySearch(cl.groups, g)
	if !found && len(cl.groups) >= MaxGroups {
		b.notify(cl, &Header{Op: "error", Group: g, Error: errorf("a client may be in at most %d groups", MaxGroups).Error()})
		return nil
	}
	if !found {
		cl.groups = slices.Insert(cl.groups, i, g)
		b.groups[g] = append(b.groups[g], cl)
		if len(b.groups[g]) == 1 {
			b.interest(g, true)
		}
	}
	b.notify(cl, &Header{Op: "subscribed", Group: g})
	if !found {
		b.report(Event{Kind: KindSubscribe, Addr: cl.addr, Conn: cl.conn, Group: g, Time: at})
		b.presence("subscribe", cl, g, cl.groups)
	}
	return nil
}

// unsubscribe takes cl out of group g: the calls to g it has not answered
// are lost for their callers.
func (b *Bus) unsubscribe(cl *client, g string, at time.Time) error {
	if err := ValidGroup(g); err != nil {
		return err
	}
	i, found := slices.BinarySearch(cl.groups, g)
	if found {
		cl.groups = slices.Delete(cl.groups, i, i+1)
		b.dropMember(g, cl)
		for c := range cl.owes {
			if c.group == g {
				b.lose(cl, c, "unsubscribed")
			}
		}
	}
	b.notify(cl, &Header{Op: "unsubscribed", Group: g})
	if found {
		b.report(Event{Kind: KindUnsubscribe, Addr: cl.addr, Conn: cl.conn, Group: g, Time: at})
		b.presence("unsubscribe", cl, g, cl.groups)
	}
	return nil
}

// msg routes a message (or a call) to a group or an address.
func (b *Bus) msg(cl *client, h *Header, body []byte, at time.Time) error {
	if err := checkMsg(h); err != nil {
		return err
	}
	if len(body) > b.opts.MaxSize {
		b.notify(cl, &Header{Op: "error", Ref: h.Ref, Error: errorf("body of %d bytes is over the bus's limit of %d", len(body), b.opts.MaxSize).Error()})
		return nil
	}
	if h.Call != 0 && cl.made[h.Call] != nil {
		b.notify(cl, &Header{Op: "error", Ref: h.Ref, Call: h.Call, Error: errorf("call %d is already pending", h.Call).Error()})
		return nil
	}
	var to []*client
	if h.Group != "" {
		to = b.groups[h.Group]
	} else if m := b.byAddr[h.To]; m != nil {
		to = []*client{m}
	}
	b.env = Header{Op: "msg", From: cl.addr, Group: h.Group, To: h.To, Call: h.Call}
	env := &b.env
	if h.Call != 0 {
		out, err := appendEnvelope(b.out[:0], env, body)
		if err != nil {
			return err
		}
		b.out = out
		b.reportMessage(KindMessage, cl, h, body, at)
		if h.Each && b.linkEach(cl, h, body, to, out) {
			return nil
		}
		if len(to) == 0 && b.linkCall(cl, h, body) {
			return nil
		}
		b.startCall(cl, h, to, out)
		return nil
	}
	// Encoded once into the batch, whose bytes every recipient's queue
	// shares.
	if len(to) > 0 {
		start, end, err := b.batchFrame(env, body)
		if err != nil {
			return err
		}
		for _, m := range to {
			b.enbatch(m, start, end)
		}
	}
	b.reportMessage(KindMessage, cl, h, body, at)
	toLink := b.opts.Link != nil && (h.Group != "" || Remote(h.To))
	linked := toLink && b.publish(cl, h, body)
	if (len(to) > 0 || toLink) && !cl.sending {
		cl.sending = true
		b.senders = append(b.senders, cl)
	}
	if toLink {
		b.linkOut += len(body) + linkOverhead
	}
	if !linked && len(to) == 0 && h.Undeliverable {
		b.notify(cl, &Header{Op: "undeliverable", Group: h.Group, To: h.To, Ref: h.Ref})
	}
	if len(b.batch)+b.linkOut >= batchBytes {
		b.flush()
	}
	return nil
}

// publish passes on a message of cl to the link.
func (b *Bus) publish(cl *client, h *Header, body []byte) bool {
	b.link = Outbound{From: cl.addr, Group: h.Group, To: h.To, Body: body}
	ok := b.opts.Link.Publish(&b.link)
	b.link = Outbound{}
	return ok
}

// checkMsg refuses a msg envelope whose fields do not go together.
func checkMsg(h *Header) error {
	switch {
	case h.Group == "" && h.To == "":
		return errorf("msg needs a group or a to")
	case h.Group != "" && h.To != "":
		return errorf("msg takes a group or a to, not both")
	case h.Each && (h.Call == 0 || h.Group == ""):
		return errorf("each goes with a call to a group")
	case h.Group != "" && Own(h.Group):
		return errorf("group %q is the bus's own: clients may not send to it", h.Group)
	}
	if h.Group != "" {
		return ValidGroup(h.Group)
	}
	return nil
}

// answer passes a callee's answer on to its caller.
func (b *Bus) answer(cl *client, h *Header, body []byte, at time.Time) error {
	if h.To == "" || h.Call == 0 {
		return errorf("answer needs a to and a call")
	}
	if len(body) > b.opts.MaxSize {
		b.notify(cl, &Header{Op: "error", Ref: h.Ref, Error: errorf("body of %d bytes is over the bus's limit of %d", len(body), b.opts.MaxSize).Error()})
		return nil
	}
	caller := b.byAddr[h.To]
	if caller == nil && b.linkAnswer(cl, h, body, at) {
		return nil
	}
	if caller == nil {
		if h.Undeliverable {
			b.notify(cl, &Header{Op: "undeliverable", To: h.To, Ref: h.Ref, Call: h.Call})
		}
		return nil
	}
	b.answered(caller, cl, h.Call)
	out, err := appendEnvelope(b.out[:0], &Header{Op: "answer", From: cl.addr, Call: h.Call, Error: h.Error, Status: h.Status}, body)
	if err != nil {
		return err
	}
	b.out = out
	b.reportMessage(KindAnswer, cl, h, body, at)
	b.deliver(caller, out)
	return nil
}

// list answers with one page of the members of a group, or of every
// client, those after h.After: the bus's own clients in connection order,
// then those of the other buses that the link knows of.
func (b *Bus) list(cl *client, h *Header) error {
	var after uint64
	remoteAfter := ""
	if h.After != "" {
		addr, _, remote := strings.Cut(h.After, "@")
		m, ok := addrSeq(addr)
		if !ok || remote && b.opts.Link == nil {
			return errorf("after %q is no address of this bus", h.After)
		}
		after = m
		if remote {
			remoteAfter, after = h.After, math.MaxUint64
		}
	}
	if h.Group != "" {
		if err := ValidGroup(h.Group); err != nil {
			return err
		}
	}
	var of []*client
	if h.Group != "" {
		for _, m := range b.groups[h.Group] {
			if m.seq > after {
				of = append(of, m)
			}
		}
	} else {
		for _, m := range b.byAddr {
			if m.seq > after {
				of = append(of, m)
			}
		}
	}
	slices.SortFunc(of, func(x, y *client) int { return cmp.Compare(x.seq, y.seq) })
	members, more := page(of, b.remoteMembers(h.Group, remoteAfter))
	b.notify(cl, &Header{Op: "members", Ref: h.Ref, Group: h.Group, Members: members, More: more})
	return nil
}

// ListPage bounds the members of one page of a listing, in bytes of
// JSON: with the rest of its header, a page fits in the frames of any
// client (a page holds one member at least, whatever its size).
const ListPage = MaxHeader - 1<<10

// page returns the members of the first page of of and then remote, and
// whether more follow.
func page(of []*client, remote []Member) ([]Member, bool) {
	members := make([]Member, 0, min(len(of)+len(remote), 256))
	size := 0
	add := func(mem Member) bool {
		js, _ := json.Marshal(&mem)
		if len(members) > 0 && size+len(js)+1 > ListPage {
			return false
		}
		size += len(js) + 1
		members = append(members, mem)
		return true
	}
	for _, m := range of {
		p := m.conn.Peer()
		if !add(Member{Addr: m.addr, Groups: append([]string{}, m.groups...), PID: p.PID, UID: p.UID, GID: p.GID}) {
			return members, true
		}
	}
	for _, mem := range remote {
		if !add(mem) {
			return members, true
		}
	}
	return members, false
}

// addrSeq returns the number of an address the bus gave ("c12": 12).
func addrSeq(addr string) (uint64, bool) {
	if len(addr) < 2 || addr[0] != 'c' {
		return 0, false
	}
	n, err := strconv.ParseUint(addr[1:], 10, 64)
	return n, err == nil
}

// dropMember takes cl out of group g's members, and forgets g once it has
// none.
func (b *Bus) dropMember(g string, cl *client) {
	b.groups[g] = slices.DeleteFunc(b.groups[g], func(m *client) bool { return m == cl })
	if len(b.groups[g]) == 0 {
		delete(b.groups, g)
		b.interest(g, false)
	}
}

// presence tells the presence group what cl did.
func (b *Bus) presence(event string, cl *client, group string, groups []string) {
	p := cl.conn.Peer()
	h := &Header{Op: "presence", Event: event, Addr: cl.addr, Group: group,
		Groups: groups, PID: p.PID, UID: &p.UID, GID: &p.GID}
	if b.opts.Link != nil {
		b.opts.Link.Presence(h)
	}
	b.announce(h)
}

// announce delivers the presence notice h to the local subscribers of
// the presence group.
func (b *Bus) announce(h *Header) {
	to := b.groups[PresenceGroup]
	if len(to) == 0 {
		return
	}
	note, err := appendEnvelope(b.note[:0], h, nil)
	if err != nil {
		return
	}
	b.note = note
	for _, m := range to {
		b.deliver(m, note)
	}
}

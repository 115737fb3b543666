package bus

// A call with each to a group of a bus joined to other buses reaches the
// members of every bus: this bus delivers it to its own and tells the
// caller whom ("calls", with more set), and the link passes it on. The
// link then names the callees it reached on the other buses with
// LinkCalls, the last time with more unset, passes on their answers and
// losses (LinkAnswer, LinkLost), and ends its part with LinkCallEnd.

// linkEach starts a call with each of cl to a group, here and through
// the link, and reports whether the link took it (else the call stays on
// this bus). frame is the call's envelope for the local members to.
func (b *Bus) linkEach(cl *client, h *Header, body []byte, to []*client, frame []byte) bool {
	if b.opts.Link == nil || !b.opts.Link.Call(&Outbound{From: cl.addr, Group: h.Group, Call: h.Call, Each: true, Body: body}) {
		return false
	}
	c := &call{caller: cl, id: h.Call, group: h.Group, each: true, linked: true, open: true, callees: make(map[*client]struct{})}
	var reached []string
	for _, m := range to {
		if _, twice := c.callees[m]; twice {
			continue
		}
		if !b.deliver(m, frame) {
			c.full = m.addr
			continue
		}
		c.callees[m] = struct{}{}
		m.owes[c] = struct{}{}
		reached = append(reached, m.addr)
	}
	cl.made[h.Call] = c
	c.named = len(reached)
	if len(reached) > 0 {
		b.notify(cl, &Header{Op: "calls", Call: h.Call, Ref: h.Ref, Callees: reached, More: true})
	}
	return true
}

// LinkCalls tells the local caller to that its call id with each reached
// callees on the other buses; more says that the link may name more. The
// last time, a call that reached nobody anywhere is undeliverable (or
// lost, when the queues of the members here were full).
func (b *Bus) LinkCalls(to string, id uint64, callees []string, more bool) {
	caller, c := b.madeCall(to, id)
	if c == nil || !c.linked || !c.open {
		return
	}
	c.named += len(callees)
	c.open = more
	switch {
	case len(callees) > 0 || !more && c.named > 0:
		b.notify(caller, &Header{Op: "calls", Call: id, Callees: callees, More: more})
	case more:
	case c.full != "":
		b.notify(caller, &Header{Op: "lost", Call: id, From: c.full, Reason: "dropped"})
	default:
		b.notify(caller, &Header{Op: "undeliverable", Group: c.group, Call: id})
	}
}

// LinkCallEnd tells that the link passes on nothing more of the call id
// of the local caller to: the call ends once its callees here are done.
func (b *Bus) LinkCallEnd(to string, id uint64) {
	_, c := b.madeCall(to, id)
	if c == nil || !c.linked {
		return
	}
	c.linked, c.open = false, false
	if len(c.callees) == 0 {
		b.unrecord(c)
	}
}

// LinkCallEach hands a call with each from the link to the members of its
// group: each one's answer and loss goes back to the link (Answer, Lost).
// It returns the addresses of the callees it reached.
func (b *Bus) LinkCallEach(in *Inbound) []string {
	to := b.groups[in.Group]
	if in.Call == 0 || in.Group == "" || len(to) == 0 || len(b.inbound) >= MaxLinkCalls {
		return nil
	}
	var addrs []string
	for _, m := range b.deliverCall(in, to, true) {
		addrs = append(addrs, m.addr)
	}
	return addrs
}

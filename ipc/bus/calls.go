package bus

// call is a pending call: a caller waits for the answers of its callees.
// The bus keeps it until every callee that may still answer has answered
// or gone, so that a caller is told at once, with a "lost" notice, when
// no answer can come any more.
type call struct {
	caller  *client // nil for a call from the link
	id      uint64
	group   string // the group it was addressed to; "" for an address
	to      string // the address it was addressed to
	each    bool   // every callee's answer is awaited, not the first
	callees map[*client]struct{}
	remote  bool   // passed on to the link, which settles it
	linked  bool   // an each call the link has part of, until LinkCallEnd
	open    bool   // linked: the link may name more callees
	named   int    // linked: the callees named to the caller, here and on the link
	full    string // linked: a member here whose queue was full
	from    string // the caller's address, for a call from the link
	reply   any    // where the link sends the answers, for a call from it
}

// startCall delivers a call's envelope to its recipients and records whom
// it reached. A caller that asked for each is told exactly whom ("calls")
// before anything else about the call; one that reached nobody is told
// at once (undeliverable, or lost when every recipient's queue was full).
func (b *Bus) startCall(cl *client, h *Header, to []*client, frame []byte) {
	c := &call{caller: cl, id: h.Call, group: h.Group, each: h.Each, callees: make(map[*client]struct{})}
	var reached []string
	var full *client
	for _, m := range to {
		if !b.deliver(m, frame) {
			full = m
			continue
		}
		if _, twice := c.callees[m]; !twice {
			c.callees[m] = struct{}{}
			m.owes[c] = struct{}{}
			reached = append(reached, m.addr)
		}
	}
	switch {
	case len(to) == 0:
		b.notify(cl, &Header{Op: "undeliverable", Group: h.Group, To: h.To, Ref: h.Ref, Call: h.Call})
	case len(reached) == 0:
		b.notify(cl, &Header{Op: "lost", Call: h.Call, From: full.addr, Reason: "dropped"})
	default:
		cl.made[h.Call] = c
		if h.Each {
			b.notify(cl, &Header{Op: "calls", Call: h.Call, Ref: h.Ref, Callees: reached})
		}
	}
}

// answered settles callee's part of caller's call id, if the bus is
// waiting for it: a call that was not each ends with its first answer.
// An answer the bus is not waiting for is passed on all the same.
func (b *Bus) answered(caller, callee *client, id uint64) {
	c := caller.made[id]
	if c == nil {
		return
	}
	if _, ok := c.callees[callee]; !ok {
		return
	}
	if !c.each {
		b.endCall(c)
		return
	}
	delete(c.callees, callee)
	delete(callee.owes, c)
	if len(c.callees) == 0 && !c.linked {
		b.unrecord(c)
	}
}

// lose settles a callee that went away (reason "disconnected") or left
// the group the call was addressed to ("unsubscribed") without answering.
// The caller is told at once: about each callee for an each call, else
// when no callee is left that could answer.
func (b *Bus) lose(callee *client, c *call, reason string) {
	delete(c.callees, callee)
	delete(callee.owes, c)
	if c.each || len(c.callees) == 0 {
		if c.caller == nil {
			b.opts.Link.Lost(c.reply, callee.addr, reason)
		} else {
			b.notify(c.caller, &Header{Op: "lost", Call: c.id, From: callee.addr, Reason: reason})
		}
	}
	if len(c.callees) == 0 && !c.linked {
		b.unrecord(c)
	}
}

// unrecord forgets call c of its caller (local, or from the link).
func (b *Bus) unrecord(c *call) {
	if c.caller == nil {
		if b.inbound[inboundKey(c.from, c.id)] == c {
			delete(b.inbound, inboundKey(c.from, c.id))
		}
		return
	}
	if c.caller.made[c.id] == c {
		delete(c.caller.made, c.id)
	}
}

// endCall forgets a call and its callees.
func (b *Bus) endCall(c *call) {
	for m := range c.callees {
		delete(m.owes, c)
	}
	b.unrecord(c)
}

// forgetCalls forgets the calls cl made: it left, nobody waits for their
// answers any more.
func (b *Bus) forgetCalls(cl *client) {
	for _, c := range cl.made {
		b.endCall(c)
	}
}

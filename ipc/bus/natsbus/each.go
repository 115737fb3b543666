package natsbus

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/ipcctl/ipcctl/ipc/bus"
	"github.com/nats-io/nats.go"
)

// hdrEach marks a call to a group that awaits every member's answer: each
// bus that gets it answers first whom it called (Ipcctl-Op: calls, a JSON
// array of addresses as the body), then each callee's answer or loss.
const hdrEach = "Ipcctl-Each"

// gather is what a bus knows of its call with each across the others.
type gather struct {
	group string
	// expect holds the buses with members of the group, as presence
	// tells, that have not said whom they called. blind: there were none
	// when the call was made (buses not yet heard of may have members),
	// and the gathering ends once no bus has named its callees for a
	// heartbeat.
	expect  map[string]bool
	blind   bool
	open    bool            // more buses may still name callees
	callees map[string]bool // named, and neither answered nor lost yet
	since   time.Time
	last    time.Time // when a bus last named its callees
}

// newGather starts the gathering of a call with each to group g.
func (f *Fed) newGather(g string) *gather {
	e := &gather{group: g, expect: make(map[string]bool), open: true, callees: make(map[string]bool), since: time.Now()}
	for id, p := range f.peers {
		if p.hasMember(g) {
			e.expect[id] = true
		}
	}
	e.blind = len(e.expect) == 0
	return e
}

// hasMember reports whether a client of p is in group g.
func (p *peer) hasMember(g string) bool {
	for _, c := range p.clients {
		if slices.Contains(c.Groups, g) {
			return true
		}
	}
	return false
}

// onEachReply takes what came to the inbox for a call with each: NATS's
// no responders, a bus's list of callees, or a callee's answer or loss.
func (f *Fed) onEachReply(token string, p *pending, m *nats.Msg) {
	e := p.each
	from := m.Header.Get(hdrFrom)
	switch {
	case noResponders(m):
		f.closeGather(p)
	case m.Header.Get(hdrOp) == "calls":
		f.onCallees(p, m)
	case !e.callees[from]:
		// a callee not named, or already settled: not awaited
	case m.Header.Get(hdrLost) != "":
		delete(e.callees, from)
		f.bus.LinkLost(p.caller, p.id, from, m.Header.Get(hdrLost))
	default:
		delete(e.callees, from)
		f.bus.LinkAnswer(p.caller, p.id, from, answerHeader(m), m.Data)
	}
	f.settle(token, p)
}

// onCallees takes a bus's list of the callees it reached. Once gathering
// is over, a bus that answers is not awaited.
func (f *Fed) onCallees(p *pending, m *nats.Msg) {
	e := p.each
	id := m.Header.Get(hdrBus)
	if !e.open || !validToken(id) {
		return
	}
	var addrs []string
	if json.Unmarshal(m.Data, &addrs) != nil || len(addrs) > MaxRemoteClients {
		addrs = nil
	}
	addrs = slices.DeleteFunc(addrs, func(a string) bool {
		return !strings.HasSuffix(a, "@"+id) || len(a) == len(id)+1 || e.callees[a]
	})
	for _, a := range addrs {
		e.callees[a] = true
	}
	delete(e.expect, id)
	e.open = len(e.expect) > 0 || e.blind
	e.last = time.Now()
	f.bus.LinkCalls(p.caller, p.id, addrs, e.open)
}

// closeGather ends the gathering of callees of p: the callees named are
// the ones awaited.
func (f *Fed) closeGather(p *pending) {
	if !p.each.open {
		return
	}
	p.each.open = false
	clear(p.each.expect)
	f.bus.LinkCalls(p.caller, p.id, nil, false)
}

// settle forgets a call with each once no bus may name more callees and
// every callee named has answered or gone.
func (f *Fed) settle(token string, p *pending) {
	if p.each.open || len(p.each.callees) > 0 {
		return
	}
	delete(f.calls, token)
	delete(f.gathers, token)
	f.bus.LinkCallEnd(p.caller, p.id)
}

// recheckGathers follows what presence told, settleAfter after it did
// (see lost.go): a bus expected to name its callees that has no member
// of the group any more (or is gone) is not awaited, and the callees of
// a bus that is gone are lost. A gathering that is over (gathered) ends.
func (f *Fed) recheckGathers(gone *peer) {
	now := time.Now()
	for token, p := range f.gathers {
		e := p.each
		if gone != nil {
			for a := range e.callees {
				if strings.HasSuffix(a, "@"+gone.id) {
					delete(e.callees, a)
					f.bus.LinkLost(p.caller, p.id, a, "disconnected")
				}
			}
		}
		for id := range e.expect {
			if f.unexpected(id, e.group, now) {
				delete(e.expect, id)
			}
		}
		if e.open && f.gathered(e, now) {
			f.closeGather(p)
		}
		f.settle(token, p)
	}
}

// unexpected reports whether bus id, expected to name its callees in
// group g, is not at now: presence told at least settleAfter before that
// it has no member of g any more, or that it left. The heartbeat's
// recheck too waits that long.
func (f *Fed) unexpected(id, g string, now time.Time) bool {
	if f.held {
		return false // its reply may be among what waits for room (see settleLeaving)
	}
	if q := f.peers[id]; q != nil {
		return !q.hasMember(g) && now.Sub(q.left) >= settleAfter
	}
	for _, d := range f.gone {
		if d.p.id == id && now.Sub(d.at) < settleAfter {
			return false
		}
	}
	return true
}

// gathered reports whether the gathering of e is over at now: every bus
// expected has named its callees or is not awaited any more; when none
// was, no bus has named callees for a heartbeat; in any case,
// missedBeats heartbeats have passed.
func (f *Fed) gathered(e *gather, now time.Time) bool {
	switch {
	case now.Sub(e.since) > missedBeats*f.opts.Heartbeat:
		return true
	case e.blind:
		return !e.last.IsZero() && now.Sub(e.last) >= f.opts.Heartbeat
	default:
		return len(e.expect) == 0
	}
}

// onEachCall hands a call with each from another bus to the local members
// of its group, and tells the caller's bus whom it reached.
func (f *Fed) onEachCall(in *bus.Inbound, reply string) {
	addrs := f.bus.LinkCallEach(in)
	for i := range addrs {
		addrs[i] += "@" + f.id
	}
	data, err := json.Marshal(nonNil(addrs))
	if err != nil {
		return
	}
	f.send(&nats.Msg{Subject: reply, Data: data, Header: nats.Header{hdrBus: {f.id}, hdrLabel: {f.opts.Label}, hdrOp: {"calls"}}})
}

// nonNil is s, or an empty slice for nil: a list that encodes as [].
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

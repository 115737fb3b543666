package natsbus

import (
	"slices"
	"strings"

	"github.com/ipcctl/ipcctl/ipc/bus"
	"github.com/nats-io/nats.go"
)

// A plain call passed on to NATS (not with each) is answered by whichever
// bus takes it first, and no bus says it took it. So that its caller is
// not left to its timeout when the callee's bus drops out of the cluster,
// the call keeps the buses that may answer it: the bus of the address
// called, or those that had members of the group, as presence told, when
// it was made. Each one that leaves (goodbye, silent heartbeat), loses
// its last member of the group, or answers that its callee went away is
// no longer awaited, and when none is left the caller is told "lost", as
// for a callee on its own bus that disconnects. A group call made when
// presence knew of no member anywhere awaits nobody in particular: only
// an answer, a loss or the caller's timeout settles it.

// awaited is a plain call of a local client that known buses may answer.
type awaited struct {
	p     *pending
	group string          // the group called, "" for an address
	buses map[string]bool // by id, those that may still answer
	had   map[string]bool // by id, those ever awaited
}

// await records the plain call token of m, if it awaits known buses, so
// that their departure settles it.
func (f *Fed) await(token string, p *pending, m *bus.Outbound) {
	if m.Each {
		return
	}
	a := &awaited{p: p, group: m.Group, buses: make(map[string]bool), had: make(map[string]bool)}
	if m.To != "" {
		_, id, _ := strings.Cut(m.To, "@")
		a.buses[id], a.had[id] = true, true
	} else {
		f.awaitNew(a)
	}
	if len(a.buses) == 0 {
		return
	}
	if f.awaited == nil {
		f.awaited = make(map[string]*awaited)
	}
	if len(f.awaited) >= MaxPending {
		f.sweepAwaited() // settled calls wait for the next heartbeat's sweep: not past the bound
	}
	f.awaited[token] = a
}

// awaitNew adds to the buses a group call awaits those that presence now
// tells have members of the group and that it never awaited (presence
// told of them late: they may have taken the call), and reports whether
// it added any.
func (f *Fed) awaitNew(a *awaited) bool {
	added := false
	for id, q := range f.peers {
		if a.group != "" && !a.had[id] && q.hasMember(a.group) {
			a.buses[id], a.had[id] = true, true
			added = true
		}
	}
	return added
}

// lostOne takes a callee's loss that its bus told for the plain call
// token, and reports whether the call goes on: other buses that may
// answer it are still awaited.
func (f *Fed) lostOne(token string, m *nats.Msg) bool {
	a := f.awaited[token]
	if a == nil {
		return false
	}
	_, id, _ := strings.Cut(m.Header.Get(hdrFrom), "@")
	delete(a.buses, id)
	if len(a.buses) > 0 || f.awaitNew(a) {
		return true
	}
	delete(f.awaited, token)
	return false
}

// awaitedGone settles the plain calls that bus gone may have taken: gone
// has left the cluster, taking its clients with it.
func (f *Fed) awaitedGone(gone *peer) {
	for token, a := range f.awaited {
		if a.buses[gone.id] {
			f.unawait(token, a, gone.id, calleeOf(gone, a), "disconnected")
		}
	}
}

// awaitedLeft settles the plain group calls that the bus of client addr
// may have taken, now that presence told that addr left a group or its
// bus (event "unsubscribe" or "disconnect"): a bus without members of
// the group any more cannot answer.
func (f *Fed) awaitedLeft(addr, event string) {
	reason := "disconnected"
	if event == "unsubscribe" {
		reason = "unsubscribed"
	}
	_, id, _ := strings.Cut(addr, "@")
	q := f.peers[id]
	for token, a := range f.awaited {
		if a.buses[id] && a.group != "" && (q == nil || !q.hasMember(a.group)) {
			f.unawait(token, a, id, addr, reason)
		}
	}
}

// unawait stops awaiting bus id for the call token, and tells its caller
// that callee from was lost (for reason) when no bus is left to answer.
func (f *Fed) unawait(token string, a *awaited, id, from, reason string) {
	if f.calls[token] != a.p {
		delete(f.awaited, token) // answered, lost or expired meanwhile
		return
	}
	delete(a.buses, id)
	if len(a.buses) > 0 || f.awaitNew(a) {
		return
	}
	delete(f.awaited, token)
	delete(f.calls, token)
	f.bus.LinkLost(a.p.caller, a.p.id, from, reason)
}

// calleeOf names the callee of call p that bus q took away: the address
// called, else a member of the group on q (the first one, in listing
// order).
func calleeOf(q *peer, a *awaited) string {
	if a.group == "" {
		return a.p.to
	}
	first := "@" + q.id
	for addr, c := range q.clients {
		if slices.Contains(c.Groups, a.group) && (first[0] == '@' || len(addr) < len(first) || len(addr) == len(first) && addr < first) {
			first = addr
		}
	}
	return first
}

// sweepAwaited forgets the calls settled otherwise (answered, expired):
// at each heartbeat, and when as many are kept as calls may be pending.
func (f *Fed) sweepAwaited() {
	for token, a := range f.awaited {
		if f.calls[token] != a.p {
			delete(f.awaited, token)
		}
	}
}

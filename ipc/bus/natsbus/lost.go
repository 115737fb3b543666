package natsbus

import (
	"slices"
	"strings"
	"time"

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
//
// A bus that presence shows has no member of the group any more, or that
// has left, is not awaited any more only settleAfter later; so for the
// gatherings of calls with each (recheckGathers). What a bus
// publishes comes in order, but the NATS client hands each subscription's
// messages to the link on a goroutine of its own: an answer sent just
// before its callee left could otherwise come after the presence notice
// of its departure, or after its bus's goodbye, and find its call told
// lost already.

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
			f.unawaitLater(token, gone.id, calleeOf(gone, a), "disconnected", false)
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
			f.unawaitLater(token, id, addr, reason, true)
		}
	}
}

// settleAfter is how long a bus found not to answer a call any more is
// still awaited: time for what it sent before to be handled (see above).
const settleAfter = 200 * time.Millisecond

// A leave is a bus that a call awaits no longer, from settleAfter after
// the link learned it.
type leave struct {
	from, reason string
	left         bool // its members left: it is awaited again if it has some by then
	at           time.Time
}

// A leaveKey is a call's token and the bus id it awaits no longer.
type leaveKey struct{ token, id string }

// unawaitLater stops awaiting bus id for the call token settleAfter from
// now (see unawait): from the last time it is told, since what a member
// that joined and left meanwhile sent may come as late.
func (f *Fed) unawaitLater(token, id, from, reason string, left bool) {
	k := leaveKey{token, id}
	if f.leaving == nil {
		f.leaving = make(map[leaveKey]leave)
	}
	f.leaving[k] = leave{from: from, reason: reason, left: left, at: time.Now()}
	f.settleIn(settleAfter)
}

// A gone is a bus that left, whose callees of calls with each are lost
// from settleAfter after the link learned it.
type gone struct {
	p  *peer
	at time.Time
}

// goneLater tells the callees of calls with each on bus p lost
// settleAfter from now: see recheckGathers.
func (f *Fed) goneLater(p *peer) {
	f.gone = append(f.gone, gone{p: p, at: time.Now()})
	f.settleIn(settleAfter)
}

// recheckLater rechecks the gatherings of calls with each settleAfter
// from now: presence told that a client left.
func (f *Fed) recheckLater() {
	f.recheck = time.Now()
	f.settleIn(settleAfter)
}

// settleIn has the loop settle what waits in leaving and gone after d,
// unless it is to already.
func (f *Fed) settleIn(d time.Duration) {
	if f.settling == nil {
		f.settling = time.AfterFunc(d, func() { f.push(item{kind: kindSettle}, admitAlways) })
	}
}

// settleLeaving stops awaiting the buses in leaving whose time has come, and
// waits again for the others. While what NATS handed over waited for
// room in the queue when the loop took it (held), it waits again for
// all: an answer may be among what comes next.
func (f *Fed) settleLeaving(now time.Time) {
	f.settling = nil
	if f.held {
		f.settleIn(settleAfter / 4)
		return
	}
	// due reports whether what the link learned at is to be settled now,
	// else keeps in next the soonest wait.
	next := time.Duration(0)
	due := func(at time.Time) bool {
		wait := at.Add(settleAfter).Sub(now)
		if wait > 0 && (next == 0 || wait < next) {
			next = wait
		}
		return wait <= 0
	}
	for k, l := range f.leaving {
		if !due(l.at) {
			continue
		}
		delete(f.leaving, k)
		a := f.awaited[k.token]
		if a == nil || !a.buses[k.id] {
			continue
		}
		if q := f.peers[k.id]; l.left && q != nil && q.hasMember(a.group) {
			continue // members again: it may still answer
		}
		f.unawait(k.token, a, k.id, l.from, l.reason)
	}
	if !f.recheck.IsZero() && due(f.recheck) {
		f.recheck = time.Time{}
		f.recheckGathers(nil)
	}
	for len(f.gone) > 0 && due(f.gone[0].at) {
		f.recheckGathers(f.gone[0].p)
		f.gone = f.gone[1:]
	}
	if next > 0 {
		f.settleIn(next)
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

package natsbus

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/ipcctl/ipcctl/ipc/bus"
	"github.com/nats-io/nats.go"
)

// MaxRemoteClients bounds the clients of other buses this bus keeps
// track of (to report their departure when their bus drops out).
const MaxRemoteClients = 100000

// missedBeats is how many heartbeats of another bus may be missed before
// it counts as gone.
const missedBeats = 5

// peer is another bus, as this one knows it.
type peer struct {
	id, label string
	seen      time.Time
	clients   map[string]*remote // by address, ADDR@ID
	synced    bool               // its state was received
	left      time.Time          // when presence last told that a client of it left or unsubscribed
}

// state is what a bus answers another that asks who is there.
type state struct {
	Label   string       `json:"label"`
	Members []bus.Member `json:"members"`
}

// Presence publishes a presence notice of a local client for the others.
func (f *Fed) Presence(h *bus.Header) {
	if f.closed || !f.known() {
		return
	}
	r := *h
	r.Addr += "@" + f.id
	data, err := json.Marshal(&r)
	if err != nil {
		return
	}
	f.send(&nats.Msg{Subject: f.opts.Prefix + ".@presence", Data: data,
		Header: nats.Header{hdrBus: {f.id}, hdrLabel: {f.opts.Label}}})
}

// beat publishes this bus's heartbeat (op "beat") or goodbye ("bye").
func (f *Fed) beat(op string) {
	if !f.known() {
		return
	}
	f.send(&nats.Msg{Subject: f.opts.Prefix + ".@bus",
		Header: nats.Header{hdrBus: {f.id}, hdrLabel: {f.opts.Label}, hdrOp: {op}}})
}

// known reports whether the NATS client has been connected. Until then
// no other bus knows this one or is known to it: its presence notices
// and heartbeats would only be lost (a bus that hears it later asks it
// for its members, askState), and no call or message to an address can
// reach anyone. The client takes no message with headers before a
// server has told it that it takes them.
func (f *Fed) known() bool { return f.connected.Load() }

// onTick beats, forgets the buses that stopped beating, the calls too old
// to be waited for, and reports what was lost.
func (f *Fed) onTick() {
	now := time.Now()
	f.beat("beat")
	for _, p := range f.peers {
		if now.Sub(p.seen) > missedBeats*f.opts.Heartbeat {
			f.depart(p)
		}
	}
	f.expire(now)
	f.sweepAwaited()
	f.recheckGathers(nil)
	f.reportLost()
}

// peerOf returns the peer of a message from another bus, made when new.
func (f *Fed) peerOf(m *nats.Msg) *peer {
	id := m.Header.Get(hdrBus)
	if !validToken(id) || id == f.id || f.byes.has(id) {
		return nil
	}
	p := f.peers[id]
	if p == nil {
		p = &peer{id: id, label: m.Header.Get(hdrLabel), clients: make(map[string]*remote)}
		f.peers[id] = p
	}
	p.seen = time.Now()
	return p
}

// onBeat notes another bus's heartbeat, or its goodbye. A bus whose
// state has not come yet is asked again at each of its heartbeats.
func (f *Fed) onBeat(m *nats.Msg) {
	p := f.peerOf(m)
	switch {
	case p == nil:
	case m.Header.Get(hdrOp) == "bye":
		f.byes.add(p.id)
		f.depart(p)
	case !p.synced:
		f.askState(p)
	}
}

// depart reports the departure of every client of a bus that left.
func (f *Fed) depart(p *peer) {
	delete(f.peers, p.id)
	for addr, c := range p.clients {
		f.bus.LinkPresence(&bus.Header{Op: "presence", Event: "disconnect", Addr: addr, Groups: c.Groups, Bus: p.label})
	}
	if p.synced {
		f.report(Event{Kind: KindLeft, Bus: p.label, Peer: p.id, Count: uint64(len(p.clients))})
	}
	f.goneLater(p)
	f.awaitedGone(p)
}

// onPresence passes another bus's presence notice on to the local
// subscribers, and keeps track of that bus's clients.
func (f *Fed) onPresence(m *nats.Msg) {
	p := f.peerOf(m)
	if p == nil {
		return
	}
	h, ok := parsePresence(m.Data, p.id)
	if !ok {
		return
	}
	h.Bus = p.label
	if h.Event == "disconnect" {
		delete(p.clients, h.Addr)
	} else if f.track(p, h.Addr) {
		p.clients[h.Addr] = remoteOf(&h)
	}
	f.bus.LinkPresence(&h)
	if h.Event == "disconnect" || h.Event == "unsubscribe" {
		p.left = time.Now()
		if len(f.gathers) > 0 {
			f.recheckLater()
		}
		f.awaitedLeft(h.Addr, h.Event)
	}
}

// parsePresence reads a presence notice that bus id published: one about
// one of its clients (an address ending in "@" and id), with an event a
// bus tells.
func parsePresence(data []byte, id string) (bus.Header, bool) {
	var h bus.Header
	if json.Unmarshal(data, &h) != nil || h.Op != "presence" || !strings.HasSuffix(h.Addr, "@"+id) || len(h.Addr) == len(id)+1 {
		return bus.Header{}, false
	}
	switch h.Event {
	case "connect", "disconnect", "subscribe", "unsubscribe":
	default:
		return bus.Header{}, false
	}
	if len(h.Groups) > bus.MaxGroups {
		return bus.Header{}, false
	}
	return h, true
}

// track reports whether there is room to keep track of one more client of
// another bus (or it is known already).
func (f *Fed) track(p *peer, addr string) bool {
	if _, ok := p.clients[addr]; ok {
		return true
	}
	n := 0
	for _, q := range f.peers {
		n += len(q.clients)
	}
	return n < MaxRemoteClients
}

// askState asks a bus heard of for the first time who is there.
func (f *Fed) askState(p *peer) {
	f.send(&nats.Msg{Subject: f.opts.Prefix + ".@addr." + p.id, Reply: f.inbox + ".s" + p.id,
		Header: nats.Header{hdrOp: {"state"}, hdrBus: {f.id}}})
}

// answerState tells another bus who is here.
func (f *Fed) answerState(m *nats.Msg) {
	if m.Reply == "" {
		return
	}
	members := f.bus.LinkMembers()
	for i := range members {
		members[i].Addr += "@" + f.id
	}
	data, err := json.Marshal(&state{Label: f.opts.Label, Members: members})
	if err != nil {
		return
	}
	if max := f.nc.MaxPayload(); max > 0 && int64(len(data)) > max {
		return // too many clients to tell: their departure will not be reported
	}
	f.send(&nats.Msg{Subject: m.Reply, Data: data, Header: nats.Header{hdrBus: {f.id}, hdrLabel: {f.opts.Label}}})
}

// onState takes the answer of bus id to askState: its clients are
// reported as they join the bus's view, and the bus as joined.
func (f *Fed) onState(id string, m *nats.Msg) {
	p := f.peers[id]
	var st state
	if p == nil || p.synced || json.Unmarshal(m.Data, &st) != nil {
		return
	}
	p.synced = true
	for _, c := range st.Members {
		if _, known := p.clients[c.Addr]; known || !strings.HasSuffix(c.Addr, "@"+id) || len(c.Groups) > bus.MaxGroups || !f.track(p, c.Addr) {
			continue
		}
		p.clients[c.Addr] = &remote{Member: c}
		uid, gid := c.UID, c.GID
		f.bus.LinkPresence(&bus.Header{Op: "presence", Event: "connect", Addr: c.Addr, Groups: c.Groups,
			PID: c.PID, UID: &uid, GID: &gid, Bus: p.label})
	}
	f.report(Event{Kind: KindJoined, Bus: p.label, Peer: id, Count: uint64(len(p.clients))})
}

// maxByes is how many buses that said goodbye a bus remembers.
const maxByes = 1024

// An idSet holds the last maxByes ids added. A bus that says goodbye is
// gone for good (one that starts again has a new id), and the NATS
// client may hand over its presence notices after its goodbye: they must
// not bring it back as a bus that has not been heard of.
type idSet struct {
	ids   map[string]struct{}
	order []string
}

func (s *idSet) has(id string) bool {
	_, ok := s.ids[id]
	return ok
}

func (s *idSet) add(id string) {
	if s.has(id) {
		return
	}
	if s.ids == nil {
		s.ids = make(map[string]struct{})
	}
	if len(s.order) == maxByes {
		delete(s.ids, s.order[0])
		s.order = s.order[1:]
	}
	s.ids[id] = struct{}{}
	s.order = append(s.order, id)
}

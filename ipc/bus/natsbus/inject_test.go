package natsbus

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ipcctl/ipcctl/ipc/bus"
	"github.com/nats-io/nats.go"
)

// fakeBus is the id of a bus that the tests below play: what it would
// send is handed to the link in an order the NATS client may hand it.
const fakeBus = "fake000bus"

// inject hands ms to the link, in this order, as the NATS client would
// have, of kind.
func (n *node) inject(kind int, ms ...*nats.Msg) {
	for _, m := range ms {
		n.fed.push(item{kind: kind, msg: m}, admitWait)
	}
}

// fakePresence is fakeBus's presence notice that its client addr did
// event, being in groups after it.
func fakePresence(t *testing.T, event, addr string, groups ...string) *nats.Msg {
	h := bus.Header{Op: "presence", Event: event, Addr: addr + "@" + fakeBus, Groups: groups}
	if event == "subscribe" {
		h.Group = groups[len(groups)-1]
	}
	data, err := json.Marshal(&h)
	if err != nil {
		t.Fatal(err)
	}
	return &nats.Msg{Subject: "test.b.@presence", Data: data, Header: nats.Header{hdrBus: {fakeBus}, hdrLabel: {"fake/bus"}}}
}

// fakeCalls is fakeBus's reply to the call with each m: it reached
// addrs.
func fakeCalls(t *testing.T, m *nats.Msg, addrs ...string) *nats.Msg {
	for i := range addrs {
		addrs[i] += "@" + fakeBus
	}
	data, err := json.Marshal(nonNil(addrs))
	if err != nil {
		t.Fatal(err)
	}
	return &nats.Msg{Subject: m.Reply, Data: data, Header: nats.Header{hdrBus: {fakeBus}, hdrOp: {"calls"}}}
}

// fakeAnswer is the answer of fakeBus's client addr to the call m.
func fakeAnswer(m *nats.Msg, addr, body string) *nats.Msg {
	return &nats.Msg{Subject: m.Reply, Data: []byte(body),
		Header: nats.Header{hdrFrom: {addr + "@" + fakeBus}, hdrCall: {m.Header.Get(hdrCall)}}}
}

// fakeCall starts fakeBus, with a client m in group svc, and returns what
// the caller's call of svc (with each if each) brings it.
func fakeCall(t *testing.T, each bool) (*node, *bus.Client, *nats.Msg) {
	one, _, caller, m := fakeCallWatched(t, each)
	return one, caller, m
}

// fakeCallWatched is fakeCall, and returns the client in @presence that
// saw fakeBus's client join.
func fakeCallWatched(t *testing.T, each bool) (*node, *bus.Client, *bus.Client, *nats.Msg) {
	c := cluster(t, 1)
	one := startNodeBeat(t, c.URLs(), bus.Options{}, time.Minute)
	nc, err := nats.Connect(c.URLs())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	sub, err := nc.SubscribeSync("test.b.svc")
	if err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	watch := one.dial(bus.PresenceGroup)
	one.inject(kindPresence, fakePresence(t, "subscribe", "m", "svc"))
	waitPresence(t, watch, "subscribe", "svc")
	caller := one.dial()
	if err := caller.Send(&bus.Header{Op: "msg", Group: "svc", Call: 7, Each: each}, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	m, err := sub.NextMsg(wait)
	if err != nil {
		t.Fatal(err)
	}
	return one, watch, caller, m
}

// TestEachTickAfterLeaving has a heartbeat come between the presence
// notice, or the goodbye, of a bus called with each and its reply sent
// before them: the gathering still takes that bus's callees, and the
// caller gets the answer.
func TestEachTickAfterLeaving(t *testing.T) {
	for _, leave := range []string{"disconnect", "bye"} {
		t.Run(leave, func(t *testing.T) {
			one, caller, m := fakeCall(t, true)
			if leave == "bye" {
				one.inject(kindBeat, &nats.Msg{Subject: "test.b.@bus", Header: nats.Header{hdrBus: {fakeBus}, hdrOp: {"bye"}}})
			} else {
				one.inject(kindPresence, fakePresence(t, "disconnect", "m", "svc"))
			}
			one.fed.push(item{kind: kindTick}, admitAlways)
			one.inject(kindReply, fakeCalls(t, m, "m"), fakeAnswer(m, "m", "pong"))
			if h, _ := recv(t, caller); h.Op != "calls" || h.More || len(h.Callees) != 1 {
				t.Fatalf("got %+v: want the last calls, naming m@%s", h, fakeBus)
			}
			if h, body := recv(t, caller); h.Op != "answer" || string(body) != "pong" {
				t.Fatalf("then %+v %q: want the answer", h, body)
			}
		})
	}
}

// TestLeavingAgain has the members of a group on another bus leave, one
// joining and leaving again meanwhile, then the last one's answer come
// after: a call is lost only settleAfter after the last departure, and
// the caller gets the answer.
func TestLeavingAgain(t *testing.T) {
	one, caller, m := fakeCall(t, false)
	one.inject(kindPresence, fakePresence(t, "disconnect", "m", "svc"))
	time.Sleep(settleAfter * 3 / 4)
	one.inject(kindPresence, fakePresence(t, "subscribe", "n", "svc"), fakePresence(t, "disconnect", "n", "svc"))
	time.Sleep(settleAfter / 2)
	one.inject(kindReply, fakeAnswer(m, "n", "pong"))
	if h, body := recv(t, caller); h.Op != "answer" || string(body) != "pong" {
		t.Fatalf("the caller got %+v %q, want the answer", h, body)
	}
}

// TestLeavingWhileFull has the answer of the last member of a group on
// another bus, sent before it left, wait for room in the full queue from
// NATS (the link held back) past settleAfter: the call is not settled
// before what waited comes, and the caller gets the answer.
func TestLeavingWhileFull(t *testing.T) {
	one, watch, caller, m := fakeCallWatched(t, false)
	one.inject(kindPresence, fakePresence(t, "disconnect", "m", "svc"))
	waitPresence(t, watch, "disconnect", "")
	one.fed.PauseLink()
	for range QueueLen {
		one.fed.push(item{kind: kindDrops}, admitAlways)
	}
	go one.inject(kindReply, fakeAnswer(m, "m", "pong"))
	time.Sleep(2 * settleAfter)
	one.fed.ResumeLink()
	if h, body := recv(t, caller); h.Op != "answer" || string(body) != "pong" {
		t.Fatalf("the caller got %+v %q, want the answer", h, body)
	}
}

// TestPresenceAfterBye hands over a bus's presence notice after its
// goodbye, as the NATS client may: the bus is gone for good (a bus that
// starts again has a new id), and the notice does not bring it back.
func TestPresenceAfterBye(t *testing.T) {
	c := cluster(t, 1)
	one := startNodeBeat(t, c.URLs(), bus.Options{}, time.Minute)
	watch := one.dial(bus.PresenceGroup)
	one.inject(kindPresence, fakePresence(t, "subscribe", "m", "svc"))
	waitPresence(t, watch, "subscribe", "svc")
	one.inject(kindBeat, &nats.Msg{Subject: "test.b.@bus", Header: nats.Header{hdrBus: {fakeBus}, hdrOp: {"bye"}}})
	waitPresence(t, watch, "disconnect", "")
	one.inject(kindPresence, fakePresence(t, "subscribe", "late", "svc"))
	// Another bus's notice marks the end of what the link handed over.
	end := fakePresence(t, "subscribe", "end", "end")
	end.Header.Set(hdrBus, "other00bus")
	end.Data = []byte(strings.ReplaceAll(string(end.Data), fakeBus, "other00bus"))
	one.inject(kindPresence, end)
	h := awaitPresence(t, watch, "the end", func(h *bus.Header) bool { return h.Group == "end" || h.Group == "svc" })
	if h.Group != "end" {
		t.Fatalf("presence %+v of a bus that said goodbye", h)
	}
}

// TestIDSetBound keeps the last maxByes ids and forgets older ones.
func TestIDSetBound(t *testing.T) {
	var s idSet
	for i := range maxByes + 10 {
		s.add(fmt.Sprintf("bus%07d", i))
		s.add(fmt.Sprintf("bus%07d", i)) // again: once
	}
	if len(s.ids) != maxByes || len(s.order) != maxByes {
		t.Fatalf("%d ids, %d in order, want %d", len(s.ids), len(s.order), maxByes)
	}
	if s.has("bus0000009") || !s.has("bus0000010") || !s.has(fmt.Sprintf("bus%07d", maxByes+9)) {
		t.Fatal("not the last ids")
	}
}

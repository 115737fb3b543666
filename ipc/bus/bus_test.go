package bus

import (
	"bytes"
	"context"
	"testing"
)

func TestHelloGivesUniqueAddresses(t *testing.T) {
	tb := startBus(t, Options{})
	seen := map[string]bool{}
	for i := 0; i < 5; i++ {
		c := tb.dial()
		if seen[c.Addr()] || c.Addr() == "" {
			t.Fatalf("address %q given twice or empty", c.Addr())
		}
		seen[c.Addr()] = true
		if c.Bus() != "b" {
			t.Fatalf("hello names bus %q, want b", c.Bus())
		}
		if i%2 == 0 {
			c.Close() // a gone client's address is not given again
		}
	}
}

func TestFanOutLeavesOtherGroupsAlone(t *testing.T) {
	tb := startBus(t, Options{})
	subs := []*Client{tb.sub("news"), tb.sub("news", "sport"), tb.sub("news")}
	other := tb.sub("sport")
	pub := tb.dial()
	for _, m := range []string{"one", "two", "three"} {
		if err := pub.Publish("news", []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range subs {
		for _, m := range []string{"one", "two", "three"} {
			h, body := recvOp(t, s, "msg")
			if string(body) != m || h.From != pub.Addr() || h.Group != "news" || h.To != "" {
				t.Fatalf("%s got %+v %q, want %q from %s in news", s.Addr(), h, body, m, pub.Addr())
			}
		}
	}
	if err := pub.Publish("sport", []byte("marker")); err != nil {
		t.Fatal(err)
	}
	if _, body := recvOp(t, other, "msg"); string(body) != "marker" {
		t.Fatalf("sport got %q before the marker: a news message leaked", body)
	}
	quiet(t, subs[0])
}

func TestDirectMessage(t *testing.T) {
	tb := startBus(t, Options{})
	a, b, c := tb.dial(), tb.dial(), tb.dial()
	if err := a.SendTo(b.Addr(), []byte("for b")); err != nil {
		t.Fatal(err)
	}
	h, body := recvOp(t, b, "msg")
	if string(body) != "for b" || h.From != a.Addr() || h.To != b.Addr() || h.Group != "" {
		t.Fatalf("got %+v %q", h, body)
	}
	quiet(t, c)
}

func TestSenderGetsItsOwnGroupMessages(t *testing.T) {
	tb := startBus(t, Options{})
	a := tb.sub("g")
	if err := a.Publish("g", []byte("self")); err != nil {
		t.Fatal(err)
	}
	if h, body := recvOp(t, a, "msg"); string(body) != "self" || h.From != a.Addr() {
		t.Fatalf("got %+v %q", h, body)
	}
}

func TestUndeliverable(t *testing.T) {
	tb := startBus(t, Options{})
	a := tb.dial()
	send(t, a, &Header{Op: "msg", Group: "empty", Undeliverable: true, Ref: 4}, []byte("x"))
	h, _ := recvOp(t, a, "undeliverable")
	if h.Group != "empty" || h.Ref != 4 {
		t.Fatalf("got %+v", h)
	}
	send(t, a, &Header{Op: "msg", To: "c999", Undeliverable: true}, nil)
	if h, _ := recvOp(t, a, "undeliverable"); h.To != "c999" {
		t.Fatalf("got %+v", h)
	}
	// Without the flag, sending to nobody is legal and silent.
	send(t, a, &Header{Op: "msg", Group: "empty"}, nil)
	send(t, a, &Header{Op: "msg", Group: "empty", Undeliverable: true, Ref: 5}, nil)
	if h, _ := recvOp(t, a, "undeliverable"); h.Ref != 5 {
		t.Fatalf("got %+v, want the notice of ref 5 only", h)
	}
}

func TestOrderFromOneSender(t *testing.T) {
	tb := startBus(t, Options{})
	r := tb.sub("g")
	a := tb.dial()
	const n = 2000
	for i := 0; i < n; i++ {
		h := &Header{Op: "msg", Group: "g"}
		if i%2 == 1 {
			h = &Header{Op: "msg", To: r.Addr()}
		}
		send(t, a, h, []byte{byte(i), byte(i >> 8)})
	}
	for i := 0; i < n; i++ {
		_, body := recvOp(t, r, "msg")
		if !bytes.Equal(body, []byte{byte(i), byte(i >> 8)}) {
			t.Fatalf("message %d came as %v", i, body)
		}
	}
}

func TestCallAnswered(t *testing.T) {
	tb := startBus(t, Options{})
	callee := tb.sub("svc")
	caller := tb.dial()
	id := caller.NewCall()
	send(t, caller, &Header{Op: "msg", Group: "svc", Call: id}, []byte("question"))
	h, body := recvOp(t, callee, "msg")
	if h.Call != id || h.From != caller.Addr() || string(body) != "question" {
		t.Fatalf("callee got %+v %q", h, body)
	}
	status := 0
	send(t, callee, &Header{Op: "answer", To: h.From, Call: h.Call, Status: &status}, []byte("answer"))
	h, body = recvOp(t, caller, "answer")
	if h.Call != id || h.From != callee.Addr() || string(body) != "answer" || h.Status == nil || *h.Status != 0 {
		t.Fatalf("caller got %+v %q", h, body)
	}
	// The call is over: the callee leaving is not news for the caller.
	callee.Close()
	send(t, caller, &Header{Op: "msg", To: "c999", Undeliverable: true}, nil)
	recvOp(t, caller, "undeliverable")
}

func TestCallFailedAnswer(t *testing.T) {
	tb := startBus(t, Options{})
	callee := tb.dial()
	caller := tb.dial()
	send(t, caller, &Header{Op: "msg", To: callee.Addr(), Call: 1}, nil)
	h, _ := recvOp(t, callee, "msg")
	status := 3
	send(t, callee, &Header{Op: "answer", To: h.From, Call: h.Call, Error: "exit status 3", Status: &status}, nil)
	h, _ = recvOp(t, caller, "answer")
	if h.Error != "exit status 3" || *h.Status != 3 {
		t.Fatalf("got %+v", h)
	}
}

func TestCallToNobodyIsUndeliverable(t *testing.T) {
	tb := startBus(t, Options{})
	caller := tb.dial()
	send(t, caller, &Header{Op: "msg", Group: "none", Call: 9}, nil)
	if h, _ := recvOp(t, caller, "undeliverable"); h.Call != 9 || h.Group != "none" {
		t.Fatalf("got %+v", h)
	}
	send(t, caller, &Header{Op: "msg", To: "c77", Call: 10}, nil)
	if h, _ := recvOp(t, caller, "undeliverable"); h.Call != 10 || h.To != "c77" {
		t.Fatalf("got %+v", h)
	}
}

func TestCalleeKilledMidCallIsLost(t *testing.T) {
	tb := startBus(t, Options{})
	callee := tb.dial()
	caller := tb.dial()
	send(t, caller, &Header{Op: "msg", To: callee.Addr(), Call: 5}, []byte("q"))
	recvOp(t, callee, "msg")
	callee.Close()
	h, _ := recvOp(t, caller, "lost")
	if h.Call != 5 || h.From != callee.Addr() || h.Reason != "disconnected" {
		t.Fatalf("got %+v", h)
	}
}

func TestCalleeUnsubscribedIsLost(t *testing.T) {
	tb := startBus(t, Options{})
	callee := tb.sub("svc")
	caller := tb.dial()
	send(t, caller, &Header{Op: "msg", Group: "svc", Call: 1}, nil)
	send(t, caller, &Header{Op: "msg", To: callee.Addr(), Call: 2}, nil)
	recvOp(t, callee, "msg")
	recvOp(t, callee, "msg")
	if err := callee.Unsubscribe(context.Background(), "svc"); err != nil {
		t.Fatal(err)
	}
	h, _ := recvOp(t, caller, "lost")
	if h.Call != 1 || h.Reason != "unsubscribed" {
		t.Fatalf("got %+v", h)
	}
	// The call to its address still stands: it answers it.
	send(t, callee, &Header{Op: "answer", To: caller.Addr(), Call: 2}, []byte("ok"))
	if h, body := recvOp(t, caller, "answer"); h.Call != 2 || string(body) != "ok" {
		t.Fatalf("got %+v %q", h, body)
	}
}

func TestGroupCallLostOnlyWhenNoCalleeIsLeft(t *testing.T) {
	tb := startBus(t, Options{})
	a, b := tb.sub("svc"), tb.sub("svc")
	caller := tb.dial()
	watch := tb.sub(PresenceGroup)
	send(t, caller, &Header{Op: "msg", Group: "svc", Call: 1}, nil)
	recvOp(t, a, "msg")
	recvOp(t, b, "msg")
	a.Close()
	// The bus has seen a go before b goes: else it may see both at once,
	// in any order.
	for {
		if h, _ := recv(t, watch); h.Event == "disconnect" && h.Addr == a.Addr() {
			break
		}
	}
	send(t, caller, &Header{Op: "msg", To: "c999", Undeliverable: true}, nil)
	recvOp(t, caller, "undeliverable") // b may still answer: no lost yet
	b.Close()
	if h, _ := recvOp(t, caller, "lost"); h.Call != 1 || h.From != b.Addr() {
		t.Fatalf("got %+v", h)
	}
}

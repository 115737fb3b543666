package bus

import (
	"slices"
	"testing"
)

func TestEachCallsExactlyTheMembers(t *testing.T) {
	tb := startBus(t, Options{})
	members := []*Client{tb.sub("svc"), tb.sub("svc"), tb.sub("svc")}
	caller := tb.dial()
	send(t, caller, &Header{Op: "msg", Group: "svc", Call: 1, Each: true}, []byte("all of you"))
	h, _ := recvOp(t, caller, "calls")
	var want []string
	for _, m := range members {
		want = append(want, m.Addr())
	}
	if h.Call != 1 || !slices.Equal(h.Callees, want) {
		t.Fatalf("got %+v, want callees %v", h, want)
	}
	// A member that joins now was not called, and is not awaited.
	late := tb.sub("svc")
	for _, m := range members {
		if h, _ := recvOp(t, m, "msg"); h.Call != 1 {
			t.Fatalf("%s got %+v", m.Addr(), h)
		}
	}
	members[1].Close() // dies without answering
	for _, i := range []int{0, 2} {
		send(t, members[i], &Header{Op: "answer", To: caller.Addr(), Call: 1}, []byte(members[i].Addr()))
	}
	got := map[string]string{}
	for len(got) < 3 {
		h, body := recv(t, caller)
		switch h.Op {
		case "answer":
			got[h.From] = "answer " + string(body)
		case "lost":
			got[h.From] = "lost " + h.Reason
		default:
			t.Fatalf("got %+v", h)
		}
	}
	for i, m := range members {
		w := "answer " + m.Addr()
		if i == 1 {
			w = "lost disconnected"
		}
		if got[m.Addr()] != w {
			t.Fatalf("%s: got %q, want %q", m.Addr(), got[m.Addr()], w)
		}
	}
	quiet(t, late)
	quiet(t, caller)
}

func TestEachEveryCalleeLost(t *testing.T) {
	tb := startBus(t, Options{})
	a, b := tb.sub("svc"), tb.sub("svc")
	caller := tb.dial()
	send(t, caller, &Header{Op: "msg", Group: "svc", Call: 3, Each: true}, nil)
	recvOp(t, caller, "calls")
	recvOp(t, a, "msg")
	recvOp(t, b, "msg")
	a.Close()
	b.Close()
	for range 2 {
		if h, _ := recvOp(t, caller, "lost"); h.Call != 3 {
			t.Fatalf("got %+v", h)
		}
	}
	// The call is over: its id may be used again.
	c := tb.sub("svc")
	send(t, caller, &Header{Op: "msg", Group: "svc", Call: 3, Each: true}, nil)
	if h, _ := recvOp(t, caller, "calls"); !slices.Equal(h.Callees, []string{c.Addr()}) {
		t.Fatalf("got %+v", h)
	}
}

func TestEachToEmptyGroupIsUndeliverable(t *testing.T) {
	tb := startBus(t, Options{})
	caller := tb.dial()
	send(t, caller, &Header{Op: "msg", Group: "svc", Call: 1, Each: true}, nil)
	if h, _ := recvOp(t, caller, "undeliverable"); h.Call != 1 || h.Group != "svc" {
		t.Fatalf("got %+v", h)
	}
}

func TestPendingCallIDRefused(t *testing.T) {
	tb := startBus(t, Options{})
	callee := tb.dial()
	caller := tb.dial()
	send(t, caller, &Header{Op: "msg", To: callee.Addr(), Call: 1}, nil)
	send(t, caller, &Header{Op: "msg", To: callee.Addr(), Call: 1, Ref: 8}, nil)
	if h, _ := recvOp(t, caller, "error"); h.Ref != 8 || h.Call != 1 {
		t.Fatalf("got %+v", h)
	}
	// The caller stays connected, and its first call stands.
	recvOp(t, callee, "msg")
	callee.Close()
	recvOp(t, caller, "lost")
}

package natsbus

import (
	"slices"
	"testing"

	"github.com/ipcctl/ipcctl/ipc/bus"
)

// TestEachAcross calls every member of a group on two buses: the caller
// is told whom in two "calls", its own bus's (more) and the other's (the
// last), and gets every answer; a call of a group with members on its
// own bus only ends without waiting for the others.
func TestEachAcross(t *testing.T) {
	c := cluster(t, 1)
	one, two := startNode(t, c.URLs()), startNode(t, c.URLs())
	watch := one.dial(bus.PresenceGroup)
	near := one.dial("svc")
	far := []*bus.Client{two.dial("svc"), two.dial("svc")}
	waitPresence(t, watch, "subscribe", "svc")
	waitPresence(t, watch, "subscribe", "svc")
	caller := one.dial()
	if err := caller.Send(&bus.Header{Op: "msg", Group: "svc", Call: 3, Each: true}, []byte("all")); err != nil {
		t.Fatal(err)
	}
	h, _ := recv(t, caller)
	if h.Op != "calls" || !h.More || !slices.Equal(h.Callees, []string{near.Addr()}) {
		t.Fatalf("first %+v: want calls of %s with more", h, near.Addr())
	}
	h, _ = recv(t, caller)
	want := []string{far[0].Addr() + "@" + two.fed.ID(), far[1].Addr() + "@" + two.fed.ID()}
	if h.Op != "calls" || h.More || !slices.Equal(h.Callees, want) {
		t.Fatalf("then %+v: want the last calls, of %v", h, want)
	}
	for _, m := range append(far, near) {
		h, _ := recv(t, m)
		if err := m.Send(&bus.Header{Op: "answer", To: h.From, Call: h.Call}, []byte(m.Addr())); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]string{}
	for range 3 {
		h, body := recv(t, caller)
		if h.Op != "answer" || h.Call != 3 {
			t.Fatalf("got %+v", h)
		}
		got[h.From] = string(body)
	}
	if got[near.Addr()] != near.Addr() || got[want[0]] != far[0].Addr() || got[want[1]] != far[1].Addr() {
		t.Fatalf("answers %v", got)
	}

	solo := one.dial("solo")
	caller.Send(&bus.Header{Op: "msg", Group: "solo", Call: 4, Each: true}, nil)
	if h, _ := recv(t, caller); h.Op != "calls" || !h.More {
		t.Fatalf("solo: %+v", h)
	}
	if h, _ := recv(t, caller); h.Op != "calls" || h.More || len(h.Callees) != 0 {
		t.Fatalf("solo, then %+v: want a last calls naming nobody", h)
	}
	recv(t, solo)
	caller.Send(&bus.Header{Op: "msg", Group: "nobody", Call: 5, Each: true}, nil)
	if h, _ := recv(t, caller); h.Op != "undeliverable" || h.Call != 5 {
		t.Fatalf("nobody: %+v", h)
	}
}

package bus

import (
	"context"
	"slices"
	"testing"
)

func TestPresenceInOrder(t *testing.T) {
	tb := startBus(t, Options{})
	w := tb.sub(PresenceGroup)
	h, _ := recvOp(t, w, "presence")
	if h.Event != "subscribe" || h.Addr != w.Addr() || h.Group != PresenceGroup {
		t.Fatalf("the watcher's own subscription: got %+v", h)
	}
	a := tb.dial()
	ctx := context.Background()
	if err := a.Subscribe(ctx, "g", "h"); err != nil {
		t.Fatal(err)
	}
	if err := a.Unsubscribe(ctx, "g"); err != nil {
		t.Fatal(err)
	}
	a.Close()
	want := []struct {
		event, group string
		groups       []string
	}{
		{"connect", "", nil},
		{"subscribe", "g", []string{"g"}},
		{"subscribe", "h", []string{"g", "h"}},
		{"unsubscribe", "g", []string{"h"}},
		{"disconnect", "", []string{"h"}},
	}
	for _, w1 := range want {
		h, _ := recvOp(t, w, "presence")
		if h.Event != w1.event || h.Addr != a.Addr() || h.Group != w1.group || !slices.Equal(h.Groups, w1.groups) {
			t.Fatalf("got %+v, want %+v", h, w1)
		}
		if h.PID == 0 || h.UID == nil || h.GID == nil {
			t.Fatalf("presence without credentials: %+v", h)
		}
	}
}

func TestPresenceNotRepeatedForNoChange(t *testing.T) {
	tb := startBus(t, Options{})
	a := tb.sub("g")
	w := tb.sub(PresenceGroup)
	recvOp(t, w, "presence") // its own subscription
	ctx := context.Background()
	if err := a.Subscribe(ctx, "g"); err != nil { // already in it
		t.Fatal(err)
	}
	if err := a.Unsubscribe(ctx, "never"); err != nil { // not in it
		t.Fatal(err)
	}
	if err := a.Subscribe(ctx, "marker"); err != nil {
		t.Fatal(err)
	}
	if h, _ := recvOp(t, w, "presence"); h.Group != "marker" {
		t.Fatalf("got %+v before the marker", h)
	}
}

func TestMembers(t *testing.T) {
	tb := startBus(t, Options{})
	a := tb.sub("g", "b")
	b := tb.sub("g")
	c := tb.dial()
	ctx := context.Background()
	all, err := c.Members(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].Addr != a.Addr() || all[1].Addr != b.Addr() || all[2].Addr != c.Addr() ||
		!slices.Equal(all[0].Groups, []string{"b", "g"}) || len(all[2].Groups) != 0 || all[0].PID == 0 {
		t.Fatalf("all clients: %+v", all)
	}
	g, err := c.Members(ctx, "g")
	if err != nil || len(g) != 2 || g[0].Addr != a.Addr() || g[1].Addr != b.Addr() {
		t.Fatalf("members of g: %+v, %v", g, err)
	}
	if none, err := c.Members(ctx, "nobody"); err != nil || len(none) != 0 {
		t.Fatalf("members of an empty group: %+v, %v", none, err)
	}
	w := tb.sub(PresenceGroup)
	recvOp(t, w, "presence") // its own subscription
	b.Close()
	if h, _ := recvOp(t, w, "presence"); h.Event != "disconnect" || h.Addr != b.Addr() {
		t.Fatalf("got %+v", h)
	}
	g, err = c.Members(ctx, "g")
	if err != nil || len(g) != 1 {
		t.Fatalf("after b left: %+v, %v", g, err)
	}
	if g[0].Addr != a.Addr() {
		t.Fatalf("after b left: %+v", g)
	}
}

func TestMembersKeepsOtherEnvelopesForRecv(t *testing.T) {
	tb := startBus(t, Options{})
	a := tb.sub("g")
	if err := a.Publish("g", []byte("meanwhile")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Members(context.Background(), "g"); err != nil {
		t.Fatal(err)
	}
	if _, body := recvOp(t, a, "msg"); string(body) != "meanwhile" {
		t.Fatalf("got %q", body)
	}
}

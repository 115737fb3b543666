package natsbus

import (
	"fmt"
	"testing"

	"github.com/ipcctl/ipcctl/ipc/bus"
)

// TestAnswerThenLeave calls, again and again, a callee on another bus
// that answers and disconnects at once: its bus publishes the answer
// before the presence notice of its departure, and the caller gets the
// answer, never "lost".
func TestAnswerThenLeave(t *testing.T) {
	c := cluster(t, 2)
	one, two := startNode(t, c.Servers[0].URL), startNode(t, c.Servers[1].URL)
	watch := one.dial(bus.PresenceGroup)
	caller := one.dial()
	for i := range 40 {
		callee := two.dial("rpc")
		waitPresence(t, watch, "subscribe", "rpc")
		id := uint64(i + 1)
		if err := caller.Send(&bus.Header{Op: "msg", Group: "rpc", Call: id}, []byte("ping")); err != nil {
			t.Fatal(err)
		}
		h, _ := recv(t, callee)
		if err := callee.Send(&bus.Header{Op: "answer", To: h.From, Call: h.Call}, fmt.Appendf(nil, "pong %d", i)); err != nil {
			t.Fatal(err)
		}
		callee.Close()
		if h, body := recv(t, caller); h.Op != "answer" || h.Call != id || string(body) != fmt.Sprint("pong ", i) {
			t.Fatalf("call %d: the caller got %+v %q, want the answer", i, h, body)
		}
		waitPresence(t, watch, "disconnect", "")
	}
}

// TestEachAnswerThenBye calls every member of a group on another bus,
// whose callee answers and whose bus then says goodbye: the goodbye
// comes after the answer, and the caller gets the answer, not "lost".
func TestEachAnswerThenBye(t *testing.T) {
	c := cluster(t, 1)
	one := startNode(t, c.Servers[0].URL)
	watch := one.dial(bus.PresenceGroup)
	caller := one.dial()
	for i := range 20 {
		two := startNode(t, c.Servers[0].URL)
		one.waitEvent(KindJoined)
		local := two.dial(bus.PresenceGroup)
		callee := two.dial("svc")
		waitPresence(t, watch, "subscribe", "svc")
		id := uint64(i + 1)
		if err := caller.Send(&bus.Header{Op: "msg", Group: "svc", Call: id, Each: true}, nil); err != nil {
			t.Fatal(err)
		}
		h, _ := recv(t, callee)
		if err := callee.Send(&bus.Header{Op: "answer", To: h.From, Call: h.Call}, []byte("here")); err != nil {
			t.Fatal(err)
		}
		callee.Close()
		awaitPresence(t, local, "local disconnection", func(h *bus.Header) bool {
			return h.Event == "disconnect" && !bus.Remote(h.Addr)
		})
		two.stop()
		for {
			h, body := recv(t, caller)
			if h.Op == "calls" {
				continue
			}
			if h.Op != "answer" || h.Call != id || string(body) != "here" {
				t.Fatalf("call %d: the caller got %+v %q, want the answer", i, h, body)
			}
			break
		}
		waitPresence(t, watch, "disconnect", "")
	}
}

package natsbus

import (
	"slices"
	"testing"
	"time"

	"github.com/ipcctl/ipcctl/ipc/bus"
)

// TestStartBeforeServer: a bus started while its NATS server is down
// serves its clients and, once the server is up, is joined with them.
// Its heartbeats and presence notices of the time before are not lost
// messages to report: no bus knows it yet, and those that hear it later
// ask it for its members. A call meanwhile is not left to its timeout.
func TestStartBeforeServer(t *testing.T) {
	c := cluster(t, 2)
	if err := c.Kill(0); err != nil {
		t.Fatal(err)
	}
	early := startNode(t, c.Servers[0].URL)
	member := early.dial("news")
	time.Sleep(500 * time.Millisecond) // five heartbeats
	// No other bus is known yet: a call to a group with no member here
	// is undeliverable at once, as on a bus of its own.
	member.Send(&bus.Header{Op: "msg", Group: "nobody", Call: 1}, nil)
	if h, _ := recv(t, member); h.Op != "undeliverable" || h.Call != 1 {
		t.Fatalf("call before the server was up: %+v", h)
	}
	two := startNode(t, c.Servers[1].URL)
	watch := two.dial(bus.PresenceGroup)
	if err := c.Restart(0); err != nil {
		t.Fatal(err)
	}
	early.waitEvent(KindConnected)
	awaitPresence(t, watch, "the early member", func(h *bus.Header) bool {
		return h.Event == "connect" && h.Addr == member.Addr()+"@"+early.fed.ID() && slices.Contains(h.Groups, "news")
	})
	if err := watch.Publish("news", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if _, body := recv(t, member); string(body) != "hello" {
		t.Fatalf("got %q, want hello", body)
	}
	for _, e := range early.lost() {
		t.Errorf("reported before its server was up: %d lost, %v", e.Count, e.Err)
	}
}

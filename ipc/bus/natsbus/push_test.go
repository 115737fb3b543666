package natsbus

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/ipcctl/ipcctl/ipc/bus"
	"github.com/nats-io/nats.go"
)

// pushN is how many messages of pushSize bytes a push-back test sends
// from NATS: far more than the subscribers' queues and sockets take, and
// within the link's queue.
const (
	pushN     = 4000
	pushSize  = 1 << 10
	pushQueue = 64 << 10
)

// burst publishes pushN numbered messages to the group feed of the bus
// from a plain NATS client, and waits until NATS has them all.
func burst(url string) error {
	nc, err := nats.Connect(url)
	if err != nil {
		return err
	}
	defer nc.Close()
	body := make([]byte, pushSize)
	for i := range pushN {
		binary.BigEndian.PutUint32(body, uint32(i))
		if err := nc.Publish("test.b.feed", body); err != nil {
			return err
		}
	}
	return nc.FlushTimeout(wait)
}

// readFeed reads c's messages of feed until pushN are received or
// counted as dropped, checking their order, and returns how many were
// dropped.
func readFeed(t *testing.T, c *bus.Client) uint64 {
	t.Helper()
	var received, dropped uint64
	last := -1
	for received+dropped < pushN {
		h, got := recv(t, c)
		switch h.Op {
		case "msg":
			seq := int(binary.BigEndian.Uint32(got))
			if seq <= last || dropped == 0 && seq != last+1 {
				t.Fatalf("%s: message %d after %d (%d dropped)", c.Addr(), seq, last, dropped)
			}
			last = seq
			received++
		case "dropped":
			dropped += h.Count
		default:
			t.Fatalf("%s got %+v", c.Addr(), h)
		}
	}
	return dropped
}

// TestLinkPushBack sends across buses a burst far larger than a
// subscriber's queue, to a subscriber that reads only once it is all
// sent: the bus holds the link back rather than drop, so it gets every
// message, and nothing is lost.
func TestLinkPushBack(t *testing.T) {
	c := cluster(t, 2)
	one := startNode(t, c.Servers[0].URL)
	two := startNodeWith(t, c.Servers[1].URL, bus.Options{QueueBytes: pushQueue, PushWait: wait})
	watch := one.dial(bus.PresenceGroup)
	reader := two.dial("feed")
	waitPresence(t, watch, "subscribe", "feed")
	if err := burst(c.Servers[0].URL); err != nil {
		t.Fatal(err)
	}
	if dropped := readFeed(t, reader); dropped != 0 {
		t.Fatalf("%d of %d messages dropped", dropped, pushN)
	}
	two.mu.Lock()
	defer two.mu.Unlock()
	for _, e := range two.events {
		if e.Kind == KindLost {
			t.Fatalf("link lost messages: %+v", e)
		}
	}
}

// TestLinkPushBackStalled: a subscriber that does not read holds the
// link back for PushWait once, then loses what does not fit in its queue
// and is told; the one that reads gets the whole burst meanwhile.
func TestLinkPushBackStalled(t *testing.T) {
	c := cluster(t, 2)
	one := startNode(t, c.Servers[0].URL)
	two := startNodeWith(t, c.Servers[1].URL, bus.Options{QueueBytes: pushQueue, PushWait: 200 * time.Millisecond})
	watch := one.dial(bus.PresenceGroup)
	stalled := two.dial("feed")
	reader := two.dial("feed")
	waitPresence(t, watch, "subscribe", "feed")
	waitPresence(t, watch, "subscribe", "feed")
	done := make(chan error, 1)
	go func() { done <- burst(c.Servers[0].URL) }()
	if dropped := readFeed(t, reader); dropped != 0 {
		t.Logf("the reader was %d messages behind", dropped) // a loaded machine
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if dropped := readFeed(t, stalled); dropped == 0 {
		t.Fatalf("the stalled subscriber lost nothing of %d messages", pushN)
	}
}

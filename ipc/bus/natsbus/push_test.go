package natsbus

import (
	"context"
	"encoding/binary"
	"syscall"
	"testing"
	"time"

	"github.com/ipcctl/ipcctl/internal/bustest"
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
	return bustest.ReadFeed(t, c.Addr(), pushN, func() (string, uint64, []byte) {
		h, got := recv(t, c)
		return h.Op, h.Count, got
	})
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

// TestPublishPushBack: a local publisher far faster than the link's
// queue, bounded low here, is held back rather than lose what it sends:
// a plain NATS subscriber gets the whole burst, in order.
func TestPublishPushBack(t *testing.T) {
	lowOut(t)
	c := cluster(t, 1)
	one := startNodeWith(t, c.Servers[0].URL, bus.Options{PushWait: wait})
	got := make(chan *nats.Msg, pushN)
	nc, err := nats.Connect(c.Servers[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sub, err := nc.ChanSubscribe("test.b.feed", got)
	if err != nil {
		t.Fatal(err)
	}
	sub.SetPendingLimits(-1, -1)
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	sender := one.dial()
	body := make([]byte, pushSize)
	for i := range pushN {
		binary.BigEndian.PutUint32(body, uint32(i))
		if err := sender.Publish("feed", body); err != nil {
			t.Fatal(err)
		}
	}
	timeout := time.After(wait)
	for i := range pushN {
		select {
		case m := <-got:
			if seq := binary.BigEndian.Uint32(m.Data); seq != uint32(i) {
				t.Fatalf("message %d where %d was due", seq, i)
			}
		case <-timeout:
			t.Fatalf("%d of %d messages came; the bus reported %+v", i, pushN, one.lost())
		}
	}
	if lost := one.lost(); len(lost) > 0 {
		t.Fatalf("link lost messages: %+v", lost)
	}
}

// lost returns the losses the link reported.
func (n *node) lost() []Event {
	n.mu.Lock()
	defer n.mu.Unlock()
	var lost []Event
	for _, e := range n.events {
		if e.Kind == KindLost {
			lost = append(lost, e)
		}
	}
	return lost
}

// TestPublishPushBackStuck: with the NATS server stopped, the link's
// queue cannot catch up: the local senders are held back for PushWait
// once, then the link loses what does not fit, and says so, while a local
// subscriber gets the whole burst.
func TestPublishPushBackStuck(t *testing.T) {
	lowOut(t)
	const n = 8 * pushN // past the bytes the sockets to the stopped server take
	c := cluster(t, 1)
	one := startNodeWith(t, c.Servers[0].URL, bus.Options{PushWait: 500 * time.Millisecond})
	reader := one.dial("feed")
	sender := one.dial()
	if err := c.Signal(0, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer c.Signal(0, syscall.SIGCONT)
	done := make(chan error, 1)
	go func() {
		body := make([]byte, pushSize)
		for i := range n {
			binary.BigEndian.PutUint32(body, uint32(i))
			if err := sender.Publish("feed", body); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	// Held back at every batch, the burst would take n/32 times PushWait.
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for i := range n {
		h, got, err := reader.Recv(ctx)
		if err != nil {
			t.Fatalf("after %d of %d messages: %v", i, n, err)
		}
		if h.Op != "msg" || binary.BigEndian.Uint32(got) != uint32(i) {
			t.Fatalf("got %+v %d where message %d was due", h, binary.BigEndian.Uint32(got), i)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	e := one.waitEvent(KindLost)
	if e.Dir != "out" || e.Count == 0 {
		t.Fatalf("lost: %+v", e)
	}
}

// lowOut bounds the queue of what the buses of t publish far below
// OutLen, so that a burst of the tests passes it: 256 messages of
// pushSize, half of which is more than a read of the loop.
func lowOut(t *testing.T) {
	n, b := outLen, outBytes
	t.Cleanup(func() { outLen, outBytes = n, b })
	outLen, outBytes = 256, 256*pushSize
}

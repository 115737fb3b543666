package natsbus

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipcctl/ipcctl/internal/natstest"
	"github.com/ipcctl/ipcctl/ipc"
	"github.com/ipcctl/ipcctl/ipc/bus"
	"github.com/ipcctl/ipcctl/ipc/natsopt"
	"github.com/nats-io/nats.go"
)

// wait bounds every wait of a test: long, for a loaded machine.
const wait = 30 * time.Second

// node is one bus joined to NATS, in a run directory of its own: one
// "machine".
type node struct {
	t      testing.TB
	dir    string
	fed    *Fed
	stop   func() // ends the bus and its link; safe to call twice
	mu     sync.Mutex
	events []Event
}

// cluster starts n NATS servers for the test.
func cluster(t testing.TB, n int) *natstest.Cluster {
	t.Helper()
	c, err := natstest.Start(t.TempDir(), n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	return c
}

// startNode runs a bus named "b" joined to the NATS servers at url.
func startNode(t testing.TB, url string) *node {
	t.Helper()
	return startNodeWith(t, url, bus.Options{})
}

// startNodeWith runs a bus named "b" with options bo (its Link set)
// joined to the NATS servers at url.
func startNodeWith(t testing.TB, url string, bo bus.Options) *node {
	t.Helper()
	return startNodeBeat(t, url, bo, 100*time.Millisecond)
}

// startNodeBeat runs a bus as startNodeWith does, that beats every hb.
func startNodeBeat(t testing.TB, url string, bo bus.Options, hb time.Duration) *node {
	t.Helper()
	dir, err := os.MkdirTemp("", "nb")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	n := &node{t: t, dir: dir}
	loop := ipc.NewLoop(ipc.Options{RunDir: dir, MaxSize: bus.FrameMax(0), BorrowPayloads: true, NoSentEvents: true})
	svc, err := loop.Listen("b", ipc.ServiceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.fed, err = New(loop, Options{NATS: natsopt.Options{URLs: url}, Prefix: "test.b", Label: "host/" + dir,
		Heartbeat: hb, Report: n.report})
	if err != nil {
		t.Fatal(err)
	}
	bo.Link = n.fed
	b := bus.New(svc, bo)
	if err := n.fed.Attach(b); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			ev, err := loop.Wait(context.Background())
			if err != nil {
				return
			}
			if !b.Handle(ev) {
				n.fed.Handle(ev)
			}
		}
	}()
	var once sync.Once
	n.stop = func() {
		once.Do(func() {
			loop.Close()
			<-done
			n.fed.Close(time.Second)
		})
	}
	t.Cleanup(n.stop)
	return n
}

func (n *node) report(e Event) {
	n.mu.Lock()
	n.events = append(n.events, e)
	n.mu.Unlock()
}

// waitEvent waits for an event of kind k.
func (n *node) waitEvent(k Kind) Event {
	n.t.Helper()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		n.mu.Lock()
		for _, e := range n.events {
			if e.Kind == k {
				n.mu.Unlock()
				return e
			}
		}
		n.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	n.t.Fatalf("no %s event in %v", k, wait)
	return Event{}
}

// dial connects a client to the node's bus, subscribed to groups.
func (n *node) dial(groups ...string) *bus.Client {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := bus.Dial(ctx, n.dir, "b", 0)
	if err != nil {
		n.t.Fatal(err)
	}
	n.t.Cleanup(func() { c.Close() })
	if len(groups) > 0 {
		if err := c.Subscribe(ctx, groups...); err != nil {
			n.t.Fatal(err)
		}
	}
	return c
}

// recv returns c's next envelope other than presence, failing after wait.
func recv(t testing.TB, c *bus.Client) (bus.Header, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for {
		h, body, err := c.Recv(ctx)
		if err != nil {
			t.Fatalf("%s: recv: %v", c.Addr(), err)
		}
		if h.Op != "presence" {
			return h, body
		}
	}
}

// waitPresence waits until c (in @presence) hears that a client of another
// bus did event in group g, and returns its address.
func waitPresence(t testing.TB, c *bus.Client, event, g string) string {
	t.Helper()
	h := awaitPresence(t, c, fmt.Sprintf("presence %s %s", event, g), func(h *bus.Header) bool {
		return h.Event == event && h.Group == g && bus.Remote(h.Addr)
	})
	if h.Bus == "" {
		t.Errorf("presence of %s without its bus", h.Addr)
	}
	return h.Addr
}

// awaitPresence waits until c (in @presence) hears a presence notice that
// match accepts, and returns it; what names it in the failure.
func awaitPresence(t testing.TB, c *bus.Client, what string, match func(*bus.Header) bool) bus.Header {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for {
		h, _, err := c.Recv(ctx)
		if err != nil {
			t.Fatalf("no %s: %v", what, err)
		}
		if h.Op == "presence" && match(&h) {
			return h
		}
	}
}

// TestFanOutAcross publishes from both buses: each member gets every
// message once, in order, and no bus gets back its own.
func TestFanOutAcross(t *testing.T) {
	c := cluster(t, 2)
	one, two := startNode(t, c.Servers[0].URL), startNode(t, c.Servers[1].URL)
	watch := one.dial(bus.PresenceGroup)
	l1 := one.dial("news")
	l2 := two.dial("news")
	waitPresence(t, watch, "subscribe", "news")
	for i := range 50 {
		if err := l1.Publish("news", fmt.Appendf(nil, "a%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*bus.Client{l2, l1} {
		for i := range 50 {
			if _, body := recv(t, c); string(body) != fmt.Sprint("a", i) {
				t.Fatalf("%s: got %q, want a%d", c.Addr(), body, i)
			}
		}
	}
	if err := l2.Publish("news", []byte("end")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*bus.Client{l1, l2} {
		h, body := recv(t, c)
		if string(body) != "end" {
			t.Fatalf("%s: got %q, want end", c.Addr(), body)
		}
		if c == l1 && h.From != l2.Addr()+"@"+two.fed.ID() {
			t.Errorf("from %q, want %s@%s", h.From, l2.Addr(), two.fed.ID())
		}
	}
}

// TestCallAcross calls a callee of another bus, then a group with no
// member anywhere (undeliverable), then a callee that leaves (lost).
func TestCallAcross(t *testing.T) {
	c := cluster(t, 1)
	one, two := startNode(t, c.URLs()), startNode(t, c.URLs())
	watch := one.dial(bus.PresenceGroup)
	callee := two.dial("rpc")
	waitPresence(t, watch, "subscribe", "rpc")
	caller := one.dial()
	if err := caller.Send(&bus.Header{Op: "msg", Group: "rpc", Call: 7}, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	h, body := recv(t, callee)
	if h.Call != 7 || string(body) != "ping" || h.From != caller.Addr()+"@"+one.fed.ID() {
		t.Fatalf("callee got %+v %q", h, body)
	}
	if err := callee.Send(&bus.Header{Op: "answer", To: h.From, Call: 7}, []byte("pong")); err != nil {
		t.Fatal(err)
	}
	if h, body := recv(t, caller); h.Op != "answer" || h.Call != 7 || string(body) != "pong" {
		t.Fatalf("caller got %+v %q", h, body)
	}

	caller.Send(&bus.Header{Op: "msg", Group: "nobody", Call: 8}, nil)
	if h, _ := recv(t, caller); h.Op != "undeliverable" || h.Call != 8 {
		t.Fatalf("call to nobody: %+v", h)
	}

	caller.Send(&bus.Header{Op: "msg", Group: "rpc", Call: 9}, nil)
	recv(t, callee)
	callee.Close()
	if h, _ := recv(t, caller); h.Op != "lost" || h.Call != 9 || h.Reason != "disconnected" {
		t.Fatalf("callee gone: %+v", h)
	}
}

// TestBusLeaves reports the clients of a bus that says goodbye as gone.
func TestBusLeaves(t *testing.T) {
	c := cluster(t, 1)
	one := startNode(t, c.URLs())
	watch := one.dial(bus.PresenceGroup)
	two := startNode(t, c.URLs())
	two.dial("news")
	addr := waitPresence(t, watch, "subscribe", "news")
	one.waitEvent(KindJoined)
	two.stop()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for {
		h, _, err := watch.Recv(ctx)
		if err != nil {
			t.Fatalf("no departure of %s: %v", addr, err)
		}
		if h.Op == "presence" && h.Event == "disconnect" && h.Addr == addr {
			break
		}
	}
	if e := one.waitEvent(KindLeft); e.Count != 1 {
		t.Errorf("bus-left count %d, want 1", e.Count)
	}
}

// TestQueueBound floods the queue from NATS's side: past its bound the
// callback waits (what NATS sends meanwhile waits in the NATS client's
// pending buffer) until the loop has taken the queue, and nothing is
// dropped.
func TestQueueBound(t *testing.T) {
	dir := t.TempDir()
	loop := ipc.NewLoop(ipc.Options{RunDir: dir})
	defer loop.Close()
	f, err := New(loop, Options{NATS: natsopt.Options{URLs: "nats://127.0.0.1:1"}, Prefix: "t"})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close(0)
	pushed := make(chan int, QueueLen+10)
	go func() {
		for i := range QueueLen + 10 {
			f.push(item{kind: kindStatus + 100, msg: &nats.Msg{Subject: "t.g"}}, admitWait)
			pushed <- i
		}
		close(pushed)
	}()
	for range QueueLen {
		<-pushed
	}
	select {
	case i := <-pushed:
		t.Fatalf("message %d was queued past the bound of %d", i, QueueLen)
	case <-time.After(100 * time.Millisecond):
	}
	f.mu.Lock()
	n := len(f.queue)
	f.mu.Unlock()
	if n != QueueLen {
		t.Fatalf("queue holds %d, want %d", n, QueueLen)
	}
	f.Handle(&ipc.Event{Type: ipc.EventExternal, External: f.x})
	rest := 0
	for range pushed {
		rest++
	}
	f.mu.Lock()
	n = len(f.queue)
	f.mu.Unlock()
	if rest != 10 || n != 10 {
		t.Fatalf("after the loop took the queue: %d more pushed and %d queued, want 10 and 10", rest, n)
	}
}

func FuzzParsePresence(f *testing.F) {
	f.Add([]byte(`{"op":"presence","addr":"c1@abc","event":"connect","pid":1,"uid":0,"gid":0}`), "abc")
	f.Add([]byte(`{"op":"presence","addr":"c1@abc","event":"subscribe","group":"g","groups":["g"]}`), "abc")
	f.Add([]byte(`{"op":"presence","addr":"@abc","event":"connect"}`), "abc")
	f.Add([]byte(`{"op":"msg"}`), "x")
	f.Fuzz(func(t *testing.T, data []byte, id string) {
		h, ok := parsePresence(data, id)
		if !ok {
			return
		}
		if !strings.HasSuffix(h.Addr, "@"+id) || h.Op != "presence" || len(h.Groups) > bus.MaxGroups {
			t.Fatalf("accepted %+v", h)
		}
	})
}

// FuzzFrom checks the reading of the sender from a reply subject: what
// it takes is what sender makes for that address and bus.
func FuzzFrom(f *testing.F) {
	for _, reply := range []string{"p.@from.k2j9x0qa17.c3", "p.@from.k2j9x0qa17", "p.@from..c3",
		"_INBOX.abc", "p.@from.a.b.c", "p.@from.a@b.c", "p.@from.a.b*"} {
		f.Add(reply)
	}
	f.Fuzz(func(t *testing.T, reply string) {
		fed := &Fed{fromDot: "p.@from.", froms: make(map[string]string)}
		from, ok := fed.from(reply)
		if !ok {
			return
		}
		addr, id, _ := strings.Cut(from, "@")
		back := &Fed{id: id, fromDot: "p.@from.", senders: make(map[string]string)}
		if !validToken(addr) || !validToken(id) || back.sender(addr) != reply {
			t.Fatalf("%q: from %q", reply, from)
		}
		if again, _ := fed.from(reply); again != from {
			t.Fatalf("%q: from %q, then %q", reply, from, again)
		}
	})
}

package bus

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
)

// wait bounds every wait of a test: long, since a loaded machine running
// the tests under -race can stall for seconds.
const wait = 30 * time.Second

// testBus is a bus serving in a short run directory for one test.
type testBus struct {
	t      *testing.T
	dir    string
	loop   *ipc.Loop
	mu     sync.Mutex
	events []Event
}

// startBus runs a bus named "b" until the test ends.
func startBus(t *testing.T, opts Options) *testBus {
	t.Helper()
	dir, err := os.MkdirTemp("", "bus")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	tb := &testBus{t: t, dir: dir}
	tb.loop = ipc.NewLoop(ipc.Options{RunDir: dir, MaxSize: FrameMax(opts.MaxSize), BorrowPayloads: true, NoSentEvents: true})
	svc, err := tb.loop.Listen("b", ipc.ServiceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	opts.Report = func(e Event) {
		tb.mu.Lock()
		e.Body = nil
		tb.events = append(tb.events, e)
		tb.mu.Unlock()
	}
	b := New(svc, opts)
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Serve(context.Background(), tb.loop)
	}()
	t.Cleanup(func() {
		tb.loop.Close()
		<-done
	})
	return tb
}

// dial connects a new client to the bus.
func (tb *testBus) dial() *Client {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := Dial(ctx, tb.dir, "b", 0)
	if err != nil {
		tb.t.Fatal(err)
	}
	tb.t.Cleanup(func() { c.Close() })
	return c
}

// sub dials a client subscribed to groups.
func (tb *testBus) sub(groups ...string) *Client {
	tb.t.Helper()
	c := tb.dial()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := c.Subscribe(ctx, groups...); err != nil {
		tb.t.Fatal(err)
	}
	return c
}

// recv returns c's next envelope, failing the test after wait.
func recv(t *testing.T, c *Client) (Header, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	h, body, err := c.Recv(ctx)
	if err != nil {
		t.Fatalf("%s: recv: %v", c.Addr(), err)
	}
	return h, body
}

// recvOp returns c's next envelope and fails unless its op is op.
func recvOp(t *testing.T, c *Client, op string) (Header, []byte) {
	t.Helper()
	h, body := recv(t, c)
	if h.Op != op {
		t.Fatalf("%s: got %+v %q, want op %q", c.Addr(), h, body, op)
	}
	return h, body
}

// quiet checks that nothing arrives for c within a short while: used
// after a marker proves that what was sent before has been routed.
func quiet(t *testing.T, c *Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if h, body, err := c.Recv(ctx); err == nil {
		t.Fatalf("%s: got %+v %q, want nothing", c.Addr(), h, body)
	}
}

// send sends h and body from c, failing the test on error.
func send(t *testing.T, c *Client, h *Header, body []byte) {
	t.Helper()
	if err := c.Send(h, body); err != nil {
		t.Fatal(err)
	}
}

package bridge

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
)

// startTap taps service name in dir with a bridge that reports to the
// returned channel, until the test ends.
func startTap(t *testing.T, dir, name string) (*ipc.Tap, <-chan BridgeEvent) {
	t.Helper()
	opts := EndpointOptions{RunDir: dir}
	tap, err := ipc.NewTap(context.Background(), dir, name, 0)
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan BridgeEvent, 1000)
	aside := Endpoint{Scheme: "unix", Name: tap.Aside()}
	b := &Bridge{To: &aside, Options: opts, Messages: true, HalfClose: true, Report: func(ev BridgeEvent) { events <- ev }}
	b.ListenOn(tap)
	runBridge(t, b)
	return tap, events
}

// requestOf sends p to service name in dir and returns the reply.
func requestOf(t *testing.T, dir, name string, p string) string {
	t.Helper()
	c, err := ipc.Dial(context.Background(), name, ipc.DialOptions{RunDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	reply, err := c.Request(testContext(t), []byte(p))
	if err != nil {
		t.Fatal(err)
	}
	return string(reply)
}

func TestTap(t *testing.T) {
	dir := echoService(t, "pong")
	tap, events := startTap(t, dir, "pong")
	if got := requestOf(t, dir, "pong", "hello"); got != "hello" {
		t.Fatalf("reply through the tap: %q", got)
	}
	if ev := waitEvent(t, events, ipc.EventConnection); ev.Cred == nil || ev.Cred.PID != os.Getpid() {
		t.Fatalf("connection %+v, want this process's credentials", ev)
	}
	for _, dir := range []string{"a>b", "b>a"} {
		if ev := waitEvent(t, events, ipc.EventSwitchRx); ev.Dir != dir || string(ev.Payload) != "hello" {
			t.Fatalf("got %+v, want hello %s", ev, dir)
		}
	}
	aside := filepath.Join(dir, ".pong.tapped")
	if _, err := os.Lstat(aside); err != nil {
		t.Fatal("the service's socket is not aside while tapped")
	}
	if err := tap.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(aside); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the socket aside is still there: %v", err)
	}
	if got := requestOf(t, dir, "pong", "direct"); got != "direct" {
		t.Fatalf("reply once untapped: %q", got)
	}
}

// TestTapHalfClose: a client that half-closes still gets its replies,
// and the service sees the end of stream.
func TestTapHalfClose(t *testing.T) {
	dir := echoServiceBy(t, "pong", (*ipc.Conn).Write) // replies before it reads the end
	_, events := startTap(t, dir, "pong")
	c, err := ipc.Dial(context.Background(), "pong", ipc.DialOptions{RunDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, p := range []string{"one", "two"} {
		c.Write([]byte(p))
	}
	c.CloseWrite()
	c.NetConn().SetReadDeadline(time.Now().Add(30 * time.Second))
	for _, want := range []string{"one", "two"} {
		if p, err := c.ReadMessage(); err != nil || string(p) != want {
			t.Fatalf("got %q, %v; want %q", p, err, want)
		}
	}
	if _, err := c.ReadMessage(); err == nil {
		t.Fatal("the connection did not end once the service closed it")
	}
	if ev := waitEvent(t, events, ipc.EventDisconnection); ev.Err != nil {
		t.Fatalf("disconnection %+v", ev)
	}
}

func TestTapRefusals(t *testing.T) {
	dir := echoService(t, "pong")
	ctx := context.Background()
	if _, err := ipc.NewTap(ctx, dir, "nosuch", 0); !errors.Is(err, ipc.ErrNoService) {
		t.Errorf("tap of a missing service: %v", err)
	}
	stale := filepath.Join(dir, "old")
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := ipc.NewTap(ctx, dir, "old", 0); !errors.Is(err, ipc.ErrRefused) {
		t.Errorf("tap of a stale socket: %v", err)
	}
	startTap(t, dir, "pong")
	if _, err := ipc.NewTap(ctx, dir, "pong", 0); err == nil {
		t.Error("a second tap of the same service was allowed")
	}
}

// TestTapUndoesKilledTap: a tap that died without Close left the
// service aside and its own dead socket in place; the next tap puts the
// service back first.
func TestTapUndoesKilledTap(t *testing.T) {
	dir := echoService(t, "pong")
	path, aside := filepath.Join(dir, "pong"), filepath.Join(dir, ".pong.tapped")
	if err := os.Rename(path, aside); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", path) // the dead tap's socket
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	tap, _ := startTap(t, dir, "pong")
	if got := requestOf(t, dir, "pong", "through"); got != "through" {
		t.Fatalf("reply through the new tap: %q", got)
	}
	tap.Close()
	if got := requestOf(t, dir, "pong", "direct"); got != "direct" {
		t.Fatalf("reply once untapped: %q", got)
	}
}

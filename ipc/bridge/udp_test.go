package bridge

import (
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
)

// listenUDPTest listens on a free UDP port of 127.0.0.1 and collects
// what the listener reports.
func listenUDPTest(t *testing.T, opts EndpointOptions) (*udpListener, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var reports []string
	opts.Report = func(err error) {
		mu.Lock()
		defer mu.Unlock()
		reports = append(reports, err.Error())
	}
	e, err := ParseEndpoint("udp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := listenUDP(e, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), reports...)
	}
}

// sendUDP sends p from a socket of its own to l, and returns the socket.
func sendUDP(t *testing.T, l *udpListener, p string) *net.UDPConn {
	t.Helper()
	c, err := net.DialUDP("udp", nil, l.pc.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Write([]byte(p)); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestUDPPeers: each sender is one pseudo-connection, its datagrams its
// messages, and a reply reaches the sender's address.
func TestUDPPeers(t *testing.T) {
	l, _ := listenUDPTest(t, EndpointOptions{})
	a := sendUDP(t, l, "from a")
	mc, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if p, err := mc.ReadMessage(); err != nil || string(p) != "from a" {
		t.Fatalf("read %q, %v", p, err)
	}
	if _, err := a.Write([]byte("again")); err != nil {
		t.Fatal(err)
	}
	if p, err := mc.ReadMessage(); err != nil || string(p) != "again" {
		t.Fatalf("second datagram: read %q, %v (want it on the same pseudo-connection)", p, err)
	}
	if err := mc.WriteMessage([]byte("reply")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	a.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := a.Read(buf); err != nil || string(buf[:n]) != "reply" {
		t.Fatalf("sender read %q, %v", buf[:n], err)
	}
	sendUDP(t, l, "from b")
	mb, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if mb == mc {
		t.Fatal("a second sender shares the first one's pseudo-connection")
	}
}

// TestUDPBounds: senders past MaxPeers are dropped and reported, and so
// is a datagram over MaxSize; drops within a second of a report are
// counted in the next one.
func TestUDPBounds(t *testing.T) {
	l, reports := listenUDPTest(t, EndpointOptions{MaxSize: 10, UDP: UDPOptions{Idle: time.Hour, MaxPeers: 1}})
	sendUDP(t, l, "one")
	mc, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	mc.ReadMessage()
	sendUDP(t, l, "two")
	if !poll(func() bool { return len(reports()) == 1 }) {
		t.Fatalf("a sender past MaxPeers is not reported: %q", reports())
	}
	if r := reports()[0]; !strings.Contains(r, "1 senders are followed already") {
		t.Fatalf("report %q", r)
	}
	l.dropped.next.Store(0) // reports are one a second
	sendUDP(t, l, strings.Repeat("x", 11))
	if !poll(func() bool { return len(reports()) == 2 }) {
		t.Fatalf("a datagram over MaxSize is not reported: %q", reports())
	}
	if r := reports()[1]; !strings.Contains(r, "a datagram of 11 bytes") {
		t.Fatalf("report %q", r)
	}
	sendUDP(t, l, strings.Repeat("y", 12)) // within the second: counted, said later
	if !poll(func() bool { return l.unsaid.Load() == 1 }) {
		t.Fatal("a drop within the second is not counted")
	}
	l.dropped.next.Store(0)
	sendUDP(t, l, strings.Repeat("z", 13))
	if !poll(func() bool { return len(reports()) == 3 }) {
		t.Fatalf("the next drop is not reported: %q", reports())
	}
	if r := reports()[2]; !strings.Contains(r, "a datagram of 13 bytes") || !strings.Contains(r, "and 1 more datagrams dropped") {
		t.Fatalf("report %q", r)
	}
}

// TestUDPExpiry: a sender silent both ways for Idle is forgotten, with
// what it had waiting.
func TestUDPExpiry(t *testing.T) {
	l, _ := listenUDPTest(t, EndpointOptions{UDP: UDPOptions{Idle: 100 * time.Millisecond}})
	sendUDP(t, l, "one")
	mc, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	mc.ReadMessage()
	if _, err := mc.ReadMessage(); !errors.Is(err, ipc.ErrClosed) {
		t.Fatalf("an idle sender's read: %v, want ErrClosed", err)
	}
	l.mu.Lock()
	n := len(l.peers)
	l.mu.Unlock()
	if n != 0 || l.queued.Load() != 0 {
		t.Fatalf("%d senders and %d bytes held after expiry, want none", n, l.queued.Load())
	}
}

// poll waits for ready, for up to 10 s.
func poll(ready func() bool) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if ready() {
			return true
		}
	}
	return false
}

// TestUDPReportDoesNotStall: a report that blocks (stdout full, say) does
// not stop the datagrams of others from being read and delivered.
func TestUDPReportDoesNotStall(t *testing.T) {
	stuck := make(chan struct{})
	defer close(stuck)
	e, err := ParseEndpoint("udp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := listenUDP(e, EndpointOptions{MaxSize: 10, Report: func(error) { <-stuck }})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	sendUDP(t, l, strings.Repeat("x", 11)) // over MaxSize: reported, and the report blocks
	sendUDP(t, l, "after")
	got := make(chan string, 1)
	go func() {
		mc, err := l.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		p, err := mc.ReadMessage()
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(p)
	}()
	select {
	case p := <-got:
		if p != "after" {
			t.Fatalf("read %q, want after", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a blocked report stalls the reading of datagrams")
	}
}

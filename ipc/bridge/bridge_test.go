package bridge

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
)

func TestBridgeLines(t *testing.T) {
	dir := echoService(t, "pong")
	addr, events := startBridge(t, "tcp://127.0.0.1:0?framing=line", "pong", EndpointOptions{RunDir: dir},
		func(b *Bridge) { b.Messages = true })
	nc, err := net.Dial("tcp", hostport(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write([]byte("one\r\ntwo\n"))
	br := bufio.NewReader(nc)
	for _, want := range []string{"one\n", "two\n"} {
		if line, err := br.ReadString('\n'); err != nil || line != want {
			t.Fatalf("got %q, %v", line, err)
		}
	}
	ev := waitEvent(t, events, ipc.EventSwitchRx)
	if ev.Dir != "a>b" || string(ev.Payload) != "one" || ev.Pair == 0 {
		t.Fatalf("first switch-rx %+v", ev)
	}
	// The echo may come back, and be reported, before the a>b write is:
	// the two directions are reported by two goroutines.
	ev = waitEvent(t, events, ipc.EventSwitchTx)
	for ev.Dir != "a>b" {
		ev = waitEvent(t, events, ipc.EventSwitchTx)
	}
	if string(ev.Payload) != "one" {
		t.Fatalf("first a>b switch-tx %+v", ev)
	}
	nc.Close()
	waitEvent(t, events, ipc.EventDisconnection)
}

func TestBridgeUnreachable(t *testing.T) {
	dir := echoService(t, "pong")
	addr, events := startBridge(t, "tcp://127.0.0.1:0", "nothere", EndpointOptions{RunDir: dir}, nil)
	nc, err := net.Dial("tcp", hostport(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Read(make([]byte, 1)); err == nil {
		t.Fatal("the client was not closed")
	}
	if ev := waitEvent(t, events, ipc.EventError); !errors.Is(ev.Err, ipc.ErrNoService) {
		t.Fatalf("error event %v", ev.Err)
	}
	waitEvent(t, events, ipc.EventDisconnection)
}

// TestBridgeMidMessage cuts a client in the middle of a frame: its pair
// ends with an error, and the bridge goes on serving others.
func TestBridgeMidMessage(t *testing.T) {
	dir := echoService(t, "pong")
	addr, events := startBridge(t, "tcp://127.0.0.1:0", "pong", EndpointOptions{RunDir: dir}, nil)
	nc, err := net.Dial("tcp", hostport(addr))
	if err != nil {
		t.Fatal(err)
	}
	nc.Write([]byte{0, 0, 0, 10, 'h', 'a', 'l', 'f'})
	nc.Close()
	if ev := waitEvent(t, events, ipc.EventError); !errors.Is(ev.Err, ipc.ErrBadData) {
		t.Fatalf("error event %v", ev.Err)
	}
	waitEvent(t, events, ipc.EventDisconnection)
	e, _ := ParseEndpoint(addr)
	c, err := e.Dial(testContext(t), EndpointOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, []byte("still here"))
}

func TestBridgeMaxConns(t *testing.T) {
	dir := echoService(t, "pong")
	addr, _ := startBridge(t, "tcp://127.0.0.1:0", "pong", EndpointOptions{RunDir: dir},
		func(b *Bridge) { b.MaxConns = 1 })
	e, _ := ParseEndpoint(addr)
	first, err := e.Dial(testContext(t), EndpointOptions{})
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, first, []byte("first"))
	second, err := e.Dial(testContext(t), EndpointOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	second.WriteMessage([]byte("second"))
	got := make(chan []byte, 1)
	go func() {
		p, _ := second.ReadMessage()
		got <- p
	}()
	select {
	case p := <-got:
		t.Fatalf("a second pair was served past MaxConns: %q", p)
	case <-time.After(200 * time.Millisecond):
	}
	first.Close()
	select {
	case p := <-got:
		if string(p) != "second" {
			t.Fatalf("got %q", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting client was never served")
	}
}

func TestBridgeShutdown(t *testing.T) {
	dir := echoService(t, "pong")
	fe, _ := ParseEndpoint("front")
	te, _ := ParseEndpoint("pong")
	b := &Bridge{From: fe, To: &te, Options: EndpointOptions{RunDir: dir}}
	if err := b.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- b.Serve(ctx) }()
	c, err := ipc.Dial(testContext(t), "front", ipc.DialOptions{RunDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, []byte("before"))
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	if _, err := c.ReadMessage(); err != io.EOF {
		t.Fatalf("the client was not closed: %v", err)
	}
	if _, err := os.Stat(b.Addr()); !os.IsNotExist(err) {
		t.Fatalf("socket left: %v", err)
	}
}

// TestBridgeBackPressure checks that a peer that does not read stalls the
// pair instead of making the bridge buffer without bound.
func TestBridgeBackPressure(t *testing.T) {
	sink, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	go func() {
		c, err := sink.Accept()
		if err == nil {
			defer c.Close()
			time.Sleep(20 * time.Second) // accepts, never reads
		}
	}()
	addr, _ := startBridge(t, "tcp://127.0.0.1:0?framing=raw", "tcp://"+sink.Addr().String()+"?framing=raw",
		EndpointOptions{}, nil)
	nc, err := net.Dial("tcp", hostport(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	chunk := make([]byte, 64<<10)
	sent := 0
	nc.SetWriteDeadline(time.Now().Add(2 * time.Second))
	for sent < 256<<20 {
		n, err := nc.Write(chunk)
		sent += n
		if err != nil {
			break
		}
	}
	if sent >= 256<<20 {
		t.Fatalf("the bridge took %d bytes for a peer that reads nothing", sent)
	}
}

// TestBridgeHalfClose ends a client's sending half after its lines, as a
// shell pipe does: the replies still come back before the pair ends.
func TestBridgeHalfClose(t *testing.T) {
	dir := echoService(t, "pong")
	addr, events := startBridge(t, "tcp://127.0.0.1:0?framing=line", "pong", EndpointOptions{RunDir: dir},
		func(b *Bridge) { b.Linger = 5 * time.Second })
	nc, err := net.Dial("tcp", hostport(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write([]byte("one\ntwo\n"))
	nc.(*net.TCPConn).CloseWrite()
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(nc)
	if err != nil || string(got) != "one\ntwo\n" {
		t.Fatalf("got %q, %v", got, err)
	}
	if ev := waitEvent(t, events, ipc.EventDisconnection); ev.Err != nil {
		t.Fatalf("disconnection %+v", ev)
	}
}

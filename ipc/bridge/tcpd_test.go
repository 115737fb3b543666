package bridge

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
)

// startBridge listens on from and serves until the test ends; to "" makes
// a TCPd. It returns the bridge's address and the events it reported.
func startBridge(t testing.TB, from, to string, opts EndpointOptions, tune func(*Bridge)) (string, <-chan BridgeEvent) {
	t.Helper()
	fe, err := ParseEndpoint(from)
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan BridgeEvent, 1000)
	b := &Bridge{From: fe, Options: opts, Report: func(ev BridgeEvent) { events <- ev }}
	if to != "" {
		te, err := ParseEndpoint(to)
		if err != nil {
			t.Fatal(err)
		}
		b.To = &te
	}
	if tune != nil {
		tune(b)
	}
	if err := b.Listen(); err != nil {
		t.Fatal(err)
	}
	runBridge(t, b)
	return b.Addr(), events
}

// runBridge serves b until the test ends.
func runBridge(t testing.TB, b *Bridge) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- b.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
}

// hostport strips the scheme from a listener's address.
func hostport(addr string) string {
	e, _ := ParseEndpoint(addr)
	return e.Host
}

// waitEvent returns the next event of type typ, failing after a while.
func waitEvent(t testing.TB, events <-chan BridgeEvent, typ ipc.EventType) BridgeEvent {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Type == typ {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event", typ)
		}
	}
}

func TestTCPdOK(t *testing.T) {
	dir := echoService(t, "pong")
	addr, _ := startBridge(t, "tcp://127.0.0.1:0", "", EndpointOptions{RunDir: dir}, nil)
	c, err := DialTCPd(testContext(t), hostport(addr), "pong")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, p := range [][]byte{[]byte("hello"), {0, 1, 0xff, '\n'}, bytes.Repeat([]byte("x"), 100000)} {
		roundTrip(t, c, p)
	}
}

func TestTCPdUnknownService(t *testing.T) {
	dir := echoService(t, "pong")
	addr, events := startBridge(t, "tcp://127.0.0.1:0", "", EndpointOptions{RunDir: dir}, nil)
	_, err := DialTCPd(testContext(t), hostport(addr), "nothere")
	if !errors.Is(err, ipc.ErrNoService) {
		t.Fatalf("got %v, want ErrNoService", err)
	}
	ev := waitEvent(t, events, ipc.EventError)
	if ev.Target != "nothere" || !errors.Is(ev.Err, ipc.ErrNoService) {
		t.Fatalf("error event %+v", ev)
	}
	// The raw bytes on the wire: "ne", then the end.
	nc, err := net.Dial("tcp", hostport(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write([]byte("nothere\n"))
	got, _ := io.ReadAll(nc)
	if string(got) != "ne" {
		t.Fatalf("TCPd answered %q", got)
	}
}

// TestTCPdPipelined sends the name and a first frame in one write, as a
// client that does not wait for "ok" would.
func TestTCPdPipelined(t *testing.T) {
	dir := echoService(t, "pong")
	addr, _ := startBridge(t, "tcp://127.0.0.1:0", "", EndpointOptions{RunDir: dir}, nil)
	nc, err := net.Dial("tcp", hostport(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write(ipc.AppendFrame([]byte("pong\x00"), []byte("early")))
	answer := make([]byte, 2)
	if _, err := io.ReadFull(nc, answer); err != nil || string(answer) != "ok" {
		t.Fatalf("answer %q, %v", answer, err)
	}
	p, err := ipc.NewFrameReader(nc, 0).ReadFrame()
	if err != nil || string(p) != "early" {
		t.Fatalf("got %q, %v", p, err)
	}
}

func TestTCPdClientAnswers(t *testing.T) {
	for _, tc := range []struct {
		answer string
		err    error
	}{{"ne", ipc.ErrNoService}, {"??", ipc.ErrBadData}, {"", ipc.ErrRefused}} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, MaxTCPdName)
			n, _ := nc.Read(buf)
			if string(buf[:n]) == "svc" {
				nc.Write([]byte(tc.answer))
			}
			nc.Close()
		}()
		_, err = DialTCPd(testContext(t), ln.Addr().String(), "svc")
		if !errors.Is(err, tc.err) {
			t.Errorf("answer %q: got %v, want %v", tc.answer, err, tc.err)
		}
		ln.Close()
	}
}

func TestParseTCPdName(t *testing.T) {
	for _, tc := range []struct {
		in, name, rest string
		ok             bool
	}{
		{"pong", "pong", "", true},
		{"pong\n", "pong", "", true},
		{"pong\r\n", "pong", "", true},
		{"pong\x00", "pong", "", true},
		{"pong\x00\x00\x00\x00\x01x", "pong", "\x00\x00\x00\x01x", true},
		{"", "", "", false},
		{"\n", "", "", false},
		{"a/b", "", "", false},
		{"..\n", "", "", false},
	} {
		name, rest, err := ParseTCPdName([]byte(tc.in))
		if (err == nil) != tc.ok || name != tc.name || string(rest) != tc.rest {
			t.Errorf("%q: got %q, %q, %v", tc.in, name, rest, err)
		}
	}
}

func FuzzParseTCPdName(f *testing.F) {
	f.Add([]byte("pong"))
	f.Add([]byte("pong\r\n\x00\x00\x00\x01x"))
	f.Fuzz(func(t *testing.T, first []byte) {
		name, rest, err := ParseTCPdName(first)
		if err != nil {
			return
		}
		if ipc.CheckName(name) != nil || len(name)+len(rest) > len(first) {
			t.Fatalf("%q gave name %q and rest %q", first, name, rest)
		}
	})
}

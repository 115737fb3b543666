package bridge

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
)

// echoService runs service name in a fresh run directory, echoing every
// message, and returns the directory.
func echoService(t testing.TB, name string) string {
	t.Helper()
	return echoServiceBy(t, name, (*ipc.Conn).Schedule)
}

// answer calls reply with each message l receives, from a goroutine of
// its own, until the test ends and closes l.
func answer(t testing.TB, l *ipc.Loop, reply func(c *ipc.Conn, p []byte)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			ev, err := l.Wait(context.Background())
			if err != nil {
				return
			}
			if ev.Type == ipc.EventMessage {
				reply(ev.Conn, ev.Payload)
			}
		}
	}()
	t.Cleanup(func() { l.Close(); <-done })
}

// echoServiceBy is echoService answering with reply (Schedule or Write).
func echoServiceBy(t testing.TB, name string, reply func(*ipc.Conn, []byte) error) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ipcb")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	l := ipc.NewLoop(ipc.Options{RunDir: dir})
	if _, err := l.Listen(name, ipc.ServiceOptions{}); err != nil {
		t.Fatal(err)
	}
	answer(t, l, func(c *ipc.Conn, p []byte) { reply(c, p) })
	return dir
}

// roundTrip writes p on c and checks that it comes back.
func roundTrip(t testing.TB, c ipc.MessageConn, p []byte) {
	t.Helper()
	if err := c.WriteMessage(p); err != nil {
		t.Fatalf("write: %v", err)
	}
	got, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if string(got) != string(p) {
		t.Fatalf("got %q, want %q", got, p)
	}
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestParseEndpoint(t *testing.T) {
	line := FramingLine
	for _, tc := range []struct {
		in   string
		want Endpoint
		str  string
	}{
		{"pong", Endpoint{Scheme: "unix", Name: "pong"}, "pong"},
		{"unix:pong", Endpoint{Scheme: "unix", Name: "pong"}, "pong"},
		{"unix:/run/x.sock", Endpoint{Scheme: "unix", Name: "/run/x.sock"}, "unix:/run/x.sock"},
		{"tcp://127.0.0.1:9000", Endpoint{Scheme: "tcp", Host: "127.0.0.1:9000"}, ""},
		{"tcp://host:9000/pong", Endpoint{Scheme: "tcp", Host: "host:9000", Path: "pong"}, ""},
		{"tls://[::1]:443", Endpoint{Scheme: "tls", Host: "[::1]:443"}, ""},
		{"tcp://:9000?framing=line", Endpoint{Scheme: "tcp", Host: ":9000", Framing: &line}, ""},
		{"ws://localhost:8080", Endpoint{Scheme: "ws", Host: "localhost:8080", Path: "/"}, "ws://localhost:8080/"},
		{"ws://localhost:8080/chat/x", Endpoint{Scheme: "ws", Host: "localhost:8080", Path: "/chat/x"}, ""},
		{"wss://h:1/p", Endpoint{Scheme: "wss", Host: "h:1", Path: "/p"}, ""},
		{"udp://127.0.0.1:7000", Endpoint{Scheme: "udp", Host: "127.0.0.1:7000"}, ""},
		{"http://h:8080", Endpoint{Scheme: "http", Host: "h:8080", Path: "/"}, "http://h:8080/"},
		{"http://h:8080/a/b", Endpoint{Scheme: "http", Host: "h:8080", Path: "/a/b"}, ""},
	} {
		got, err := ParseEndpoint(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got.String() != tc.want.String() || got.Scheme != tc.want.Scheme || got.Name != tc.want.Name ||
			got.Host != tc.want.Host || got.Path != tc.want.Path || (got.Framing == nil) != (tc.want.Framing == nil) {
			t.Errorf("%s: got %+v, want %+v", tc.in, got, tc.want)
		}
		str := tc.str
		if str == "" {
			str = tc.in
		}
		if got.String() != str {
			t.Errorf("%s: String() = %q, want %q", tc.in, got.String(), str)
		}
	}
}

func TestParseEndpointErrors(t *testing.T) {
	for _, in := range []string{
		"", "a/b", "..", "unix:", "tcp://host", "tcp://:x", "ftp://h:1/", "tcp://h:1/a/b",
		"udp://h:1/x", "udp://h:1?framing=line", "http://h:1/?q=1", "udp://h",
		"tcp://h:1?framing=xml", "tcp://h:1?foo=1", "tcp://u@h:1", "ws://h:1/?q=1", "tcp://h:1#f",
	} {
		if e, err := ParseEndpoint(in); err == nil {
			t.Errorf("ParseEndpoint(%q) = %+v, want an error", in, e)
		}
	}
}

func TestEndpointListenRefusesPath(t *testing.T) {
	e, _ := ParseEndpoint("tcp://127.0.0.1:0/pong")
	if ln, err := e.Listen(EndpointOptions{}); err == nil {
		ln.Close()
		t.Fatal("listened on a tcp endpoint with a service path")
	}
}

func TestServiceEndpoint(t *testing.T) {
	dir := echoService(t, "echo")
	opts := EndpointOptions{RunDir: dir}
	from, _ := ParseEndpoint("front")
	ln, err := from.Listen(opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir + "/front"); err != nil {
		t.Fatalf("no socket: %v", err)
	}
	if _, err := from.Listen(opts); err == nil {
		t.Fatal("a second listen of a live name succeeded")
	}
	go func() {
		c, err := ln.Accept()
		if err == nil {
			p, _ := c.ReadMessage()
			c.WriteMessage(p)
		}
	}()
	c, err := from.Dial(testContext(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, []byte("hi"))
	ln.Close()
	if _, err := os.Stat(dir + "/front"); !os.IsNotExist(err) {
		t.Fatalf("socket left after Close: %v", err)
	}
}

// ctxFor returns a context that ends after d.
func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func FuzzParseEndpoint(f *testing.F) {
	for _, s := range []string{"pong", "unix:/x", "tcp://h:1/p?framing=line", "ws://[::1]:8/a", "udp://h:1", "http://h:1/a%20b", "nats://h:1,k:2/a.b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseEndpoint(s)
		if err != nil {
			return
		}
		again, err := ParseEndpoint(e.String())
		if err != nil || again.String() != e.String() {
			t.Fatalf("%q printed as %q reads back as %q, %v", s, e.String(), again.String(), err)
		}
	})
}

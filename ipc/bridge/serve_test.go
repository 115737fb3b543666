package bridge

import (
	"net"
	"testing"

	"github.com/ipcctl/ipcctl/ipc"
)

// serveEcho serves endpoint with a loop that answers each message with
// the client's address and the message, and returns where it listens.
func serveEcho(t *testing.T, endpoint string) string {
	t.Helper()
	e, err := ParseEndpoint(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := e.ServeListener(EndpointOptions{Framing: FramingLine})
	if err != nil {
		t.Fatal(err)
	}
	l := ipc.NewLoop(ipc.Options{RunDir: t.TempDir()})
	svc, err := l.ListenOn(e.Scheme, ln, ipc.ServiceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	answer(t, l, func(c *ipc.Conn, p []byte) {
		a, _ := c.NetConn().RemoteAddr().(*net.TCPAddr)
		if a == nil {
			c.Schedule([]byte("no address"))
			return
		}
		c.Schedule(append([]byte(a.IP.String()+" "), p...))
	})
	return svc.Addr().String()
}

// TestServeListenerWebSocket: a WebSocket client's messages reach the
// loop, with its address, and the replies come back as messages.
func TestServeListenerWebSocket(t *testing.T) {
	addr := serveEcho(t, "ws://127.0.0.1:0/echo")
	c, err := DialWS(testContext(t), addr, 0, WSOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.WriteMessage([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	got, err := c.ReadMessage()
	if err != nil || string(got) != "127.0.0.1 hi" {
		t.Fatalf("reply %q, %v", got, err)
	}
}

// TestServeListenerLines: a TCP client speaking lines.
func TestServeListenerLines(t *testing.T) {
	addr := serveEcho(t, "tcp://127.0.0.1:0")
	e, _ := ParseEndpoint(addr + "?framing=line")
	c, err := e.Dial(testContext(t), EndpointOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.WriteMessage([]byte("one"))
	got, err := c.ReadMessage()
	if err != nil || string(got) != "127.0.0.1 one" {
		t.Fatalf("reply %q, %v", got, err)
	}
}

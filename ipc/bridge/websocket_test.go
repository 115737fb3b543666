package bridge

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/ipcctl/ipcctl/ipc"

	"github.com/coder/websocket"
)

// wsClient opens a WebSocket to url with the library's own client.
func wsClient(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.Dial(testContext(t), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	ws.SetReadLimit(ipc.DefaultMaxSize)
	return ws
}

func TestWebSocketBridge(t *testing.T) {
	dir := echoService(t, "pong")
	addr, _ := startBridge(t, "ws://127.0.0.1:0/ipc", "pong", EndpointOptions{RunDir: dir}, nil)
	ws := wsClient(t, addr)
	ctx := testContext(t)
	for _, tc := range []struct {
		p   []byte
		typ websocket.MessageType
	}{
		{[]byte("hello"), websocket.MessageText},
		{[]byte{0xff, 0, 1}, websocket.MessageBinary},
		{[]byte{}, websocket.MessageText},
		{bytes.Repeat([]byte("é"), 50000), websocket.MessageText},
	} {
		if err := ws.Write(ctx, websocket.MessageBinary, tc.p); err != nil {
			t.Fatal(err)
		}
		typ, p, err := ws.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if typ != tc.typ || !bytes.Equal(p, tc.p) {
			t.Fatalf("got %v %q, want %v %q", typ, p, tc.typ, tc.p)
		}
	}
	ws.Close(websocket.StatusNormalClosure, "")
}

func TestWebSocketBinaryOption(t *testing.T) {
	dir := echoService(t, "pong")
	opts := EndpointOptions{RunDir: dir, WS: WSOptions{Binary: true}}
	addr, _ := startBridge(t, "ws://127.0.0.1:0/", "pong", opts, nil)
	ws := wsClient(t, addr)
	ctx := testContext(t)
	ws.Write(ctx, websocket.MessageText, []byte("text"))
	if typ, p, err := ws.Read(ctx); err != nil || typ != websocket.MessageBinary || string(p) != "text" {
		t.Fatalf("got %v %q %v", typ, p, err)
	}
}

func TestWebSocketOverLimit(t *testing.T) {
	dir := echoService(t, "pong")
	addr, events := startBridge(t, "ws://127.0.0.1:0/", "pong", EndpointOptions{RunDir: dir, MaxSize: 100}, nil)
	ws := wsClient(t, addr)
	ctx := testContext(t)
	ws.Write(ctx, websocket.MessageBinary, make([]byte, 101))
	_, _, err := ws.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Fatalf("got %v, want a close with StatusMessageTooBig", err)
	}
	if ev := waitEvent(t, events, ipc.EventError); !errors.Is(ev.Err, ipc.ErrTooLarge) {
		t.Fatalf("error event %v", ev.Err)
	}
}

func TestWebSocketWrongPath(t *testing.T) {
	addr, _ := startBridge(t, "ws://127.0.0.1:0/ipc", "pong", EndpointOptions{RunDir: t.TempDir()}, nil)
	resp, err := http.Get("http://" + hostport(addr) + "/other")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status %s", resp.Status)
	}
}

func TestWebSocketForeignOrigin(t *testing.T) {
	addr, _ := startBridge(t, "ws://127.0.0.1:0/", "pong", EndpointOptions{RunDir: t.TempDir()}, nil)
	h := http.Header{"Origin": {"http://evil.example"}}
	_, _, err := websocket.Dial(testContext(t), addr, &websocket.DialOptions{HTTPHeader: h})
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("a foreign origin was let in: %v", err)
	}
}

// TestWebSocketClientSide bridges a service to a WebSocket server.
func TestWebSocketClientSide(t *testing.T) {
	dir := echoService(t, "pong")
	wsAddr, _ := startBridge(t, "ws://127.0.0.1:0/x", "pong", EndpointOptions{RunDir: dir}, nil)
	front, _ := startBridge(t, "front", wsAddr, EndpointOptions{RunDir: dir}, nil)
	if !strings.HasSuffix(front, "/front") {
		t.Fatalf("listening at %s", front)
	}
	c, err := ipc.Dial(testContext(t), "front", ipc.DialOptions{RunDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, []byte("service > ws > service"))
	roundTrip(t, c, []byte{0, 0xfe})
}

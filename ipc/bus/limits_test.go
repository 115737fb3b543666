package bus

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/ipcctl/ipcctl/ipc"
)

func TestAllByteValuesAndEmptyBodies(t *testing.T) {
	tb := startBus(t, Options{})
	r := tb.sub("bin")
	s := tb.dial()
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	for _, body := range [][]byte{all, {}, []byte("\n"), append([]byte("{\"op\":\"x\"}\n"), all...)} {
		if err := s.Publish("bin", body); err != nil {
			t.Fatal(err)
		}
		if _, got := recvOp(t, r, "msg"); !bytes.Equal(got, body) {
			t.Fatalf("group: got %q, want %q", got, body)
		}
		if err := s.SendTo(r.Addr(), body); err != nil {
			t.Fatal(err)
		}
		if _, got := recvOp(t, r, "msg"); !bytes.Equal(got, body) {
			t.Fatalf("direct: got %q, want %q", got, body)
		}
	}
	send(t, s, &Header{Op: "msg", To: r.Addr(), Call: 1}, all)
	recvOp(t, r, "msg")
	send(t, r, &Header{Op: "answer", To: s.Addr(), Call: 1}, all)
	if _, got := recvOp(t, s, "answer"); !bytes.Equal(got, all) {
		t.Fatalf("answer: got %q", got)
	}
}

func TestMaxSizeBody(t *testing.T) {
	const max = 200 << 10
	tb := startBus(t, Options{MaxSize: max})
	ctx := context.Background()
	r, err := Dial(ctx, tb.dir, "b", max)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Subscribe(ctx, "big"); err != nil {
		t.Fatal(err)
	}
	s := tb.dial()
	body := bytes.Repeat([]byte{0xa5}, max)
	if err := s.Publish("big", body); err != nil {
		t.Fatal(err)
	}
	if _, got := recvOp(t, r, "msg"); !bytes.Equal(got, body) {
		t.Fatalf("got %d bytes, want %d", len(got), len(body))
	}
	send(t, s, &Header{Op: "msg", Group: "big", Ref: 2}, append(body, 0))
	if h, _ := recvOp(t, s, "error"); h.Ref != 2 {
		t.Fatalf("got %+v", h)
	}
	// Over the limit is refused, not fatal: the sender goes on.
	if err := s.Publish("big", []byte("after")); err != nil {
		t.Fatal(err)
	}
	if _, got := recvOp(t, r, "msg"); string(got) != "after" {
		t.Fatalf("got %q", got)
	}
}

func TestMalformedEnvelopeClosesOnlyThatClient(t *testing.T) {
	tb := startBus(t, Options{})
	good := tb.sub("g")
	for _, p := range []string{
		"no newline",
		"[1]\n",
		"{\"op\":\"msg\",\"group\":5}\n",
		"{\"op\":\"dance\"}\n",
		"{\"op\":\"sub\",\"group\":\"has space\"}\n",
		"{\"op\":\"msg\"}\nbody",
		"{\"op\":\"msg\",\"group\":\"g\",\"to\":\"c1\"}\n",
		"{\"op\":\"msg\",\"group\":\"@presence\"}\n",
		"{\"op\":\"msg\",\"to\":\"c1\",\"each\":true,\"call\":1}\n",
		"{\"op\":\"answer\",\"to\":\"c1\"}\n",
		"{\"op\":\"msg\",\"group\":\"g\",\"error\":\"" + string(bytes.Repeat([]byte("x"), MaxHeader)) + "\"}\n",
	} {
		c := tb.dial()
		if err := c.Conn().WriteMessage([]byte(p)); err != nil {
			t.Fatal(err)
		}
		h, _ := recvOp(t, c, "error")
		if h.Error == "" {
			t.Fatalf("%.40q: error notice without text", p)
		}
		if _, _, err := c.Recv(context.Background()); err != io.EOF {
			t.Fatalf("%.40q: after the error notice got %v, want the end of the connection", p, err)
		}
	}
	s := tb.dial()
	if err := s.Publish("g", []byte("still here")); err != nil {
		t.Fatal(err)
	}
	if _, body := recvOp(t, good, "msg"); string(body) != "still here" {
		t.Fatalf("got %q", body)
	}
}

func TestMalformedCallerIsForgotten(t *testing.T) {
	tb := startBus(t, Options{})
	callee := tb.sub("svc")
	bad := tb.sub("g")
	send(t, bad, &Header{Op: "msg", Group: "svc", Call: 1}, nil)
	recvOp(t, callee, "msg")
	bad.Conn().WriteMessage([]byte("garbage"))
	recvOp(t, bad, "error")
	// Its groups are left at once: a message to them reaches nobody.
	send(t, callee, &Header{Op: "msg", Group: "g", Undeliverable: true}, nil)
	recvOp(t, callee, "undeliverable")
}

func TestNotABus(t *testing.T) {
	dir := t.TempDir()
	loop := ipc.NewLoop(ipc.Options{RunDir: dir})
	defer loop.Close()
	if _, err := loop.Listen("plain", ipc.ServiceOptions{}); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			ev, err := loop.Wait(context.Background())
			if err != nil {
				return
			}
			if ev.Type == ipc.EventConnection {
				ev.Conn.Schedule([]byte("hello, I am no bus"))
			}
		}
	}()
	if _, err := Dial(context.Background(), dir, "plain", 0); !errors.Is(err, ipc.ErrBadData) {
		t.Fatalf("got %v, want ErrBadData", err)
	}
	if _, err := Dial(context.Background(), dir, "absent", 0); !errors.Is(err, ipc.ErrNoService) {
		t.Fatalf("got %v, want ErrNoService", err)
	}
}

// TestMalformedEnvelopeThenHalfClose: a client that sends a malformed
// envelope and half-closes at once still gets the error notice, then
// the end of the connection.
func TestMalformedEnvelopeThenHalfClose(t *testing.T) {
	tb := startBus(t, Options{})
	for i := range 20 {
		c := tb.dial()
		if err := c.Conn().WriteMessage([]byte("no newline")); err != nil {
			t.Fatal(err)
		}
		if err := c.Conn().CloseWrite(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		h, _, err := c.Recv(ctx)
		cancel()
		if err != nil || h.Op != "error" {
			t.Fatalf("client %d: got %+v, %v; want the error notice", i, h, err)
		}
		if _, _, err := c.Recv(context.Background()); err != io.EOF {
			t.Fatalf("client %d: after the error notice got %v, want the end of the connection", i, err)
		}
	}
}

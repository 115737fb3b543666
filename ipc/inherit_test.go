package ipc

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// listenUnix listens at path as a service manager would, outside ipc.
func listenUnix(t *testing.T, path string) *net.UnixListener {
	t.Helper()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	t.Cleanup(func() { ln.Close() })
	return ln
}

// TestListenOnServesASocketMadeElsewhere: the loop accepts, reports and
// answers the clients of a listener it did not make, holds the lock file,
// and leaves the socket file in place at Close.
func TestListenOnServesASocketMadeElsewhere(t *testing.T) {
	l := newLoop(t, Options{})
	path := filepath.Join(l.RunDir(), "made")
	ln := listenUnix(t, path)
	s, err := l.ListenOn("made", ln, ServiceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Path() != path {
		t.Fatalf("Path() = %q, want %q", s.Path(), path)
	}
	if _, err := Adopt("made", listenUnix(t, path+"2")); err != nil {
		t.Fatalf("another socket: %v", err)
	}
	if _, err := lockService(path); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("lock of %s while served: %v, want ErrAlreadyRunning", path, err)
	}
	go func() {
		for {
			ev, err := l.Wait(context.Background())
			if err != nil {
				return
			}
			if ev.Type == EventMessage {
				ev.Conn.Schedule(append([]byte("re: "), ev.Payload...))
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	c, err := DialPath(ctx, path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	reply, err := c.Request(ctx, []byte("hi"))
	if err != nil || string(reply) != "re: hi" {
		t.Fatalf("Request = %q, %v", reply, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("the socket made elsewhere is gone after Close: %v", err)
	}
}

// TestAdoptRefusesAHeldName: a socket at a path whose lock another
// service holds is not served.
func TestAdoptRefusesAHeldName(t *testing.T) {
	dir := runDir(t)
	path := filepath.Join(dir, "held")
	lock, err := lockService(path)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := Adopt("held", listenUnix(t, path)); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("Adopt = %v, want ErrAlreadyRunning", err)
	}
}

// TestListenOnTCP: any stream listener may be a service; its clients
// carry LibIPC frames over TCP.
func TestListenOnTCP(t *testing.T) {
	l := newLoop(t, Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := l.ListenOn("tcp", ln, ServiceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Path() != "" {
		t.Fatalf("Path() = %q for TCP", s.Path())
	}
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	WriteFrame(nc, []byte("over tcp"))
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	for {
		ev, err := l.Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Type == EventMessage {
			if string(ev.Payload) != "over tcp" {
				t.Fatalf("message %q", ev.Payload)
			}
			return
		}
	}
}

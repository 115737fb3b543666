package ipc

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestExternal(t *testing.T) {
	l := newLoop(t, Options{})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	fd, err := dupFd(r)
	if err != nil {
		t.Fatal(err)
	}
	x, err := l.AddExternal(fd)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	w.Write([]byte("ready"))
	ev := expect(t, l, EventExternal)
	if ev.External != x || ev.Err != nil {
		t.Fatalf("external event: %v %v", ev.External, ev.Err)
	}
	// Until the caller reads, the fd stays readable, but it is not
	// reported again before the caller comes back to Wait: the timer
	// proves the loop runs meanwhile without a second external event.
	l.SetTimer(time.Millisecond)
	buf := make([]byte, 16)
	n, err := x.File().Read(buf)
	if err != nil || string(buf[:n]) != "ready" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	// Back to Wait: nothing to read, so only ticks come.
	for range 3 {
		if ev := next(t, l); ev.Type != EventTimer {
			t.Fatalf("got %v, want only timer events while the pipe is empty", ev.Type)
		}
	}
	w.Write([]byte("again"))
	if ev := expect(t, l, EventExternal); ev.External != x {
		t.Fatal("not the external")
	}
	// Not read this time: the next Wait reports it again, once the
	// caller came back.
	if ev := expect(t, l, EventExternal); ev.External != x {
		t.Fatal("not the external")
	}
	l.SetTimer(0)
}

// TestExternalNotRepeatedBeforeWait checks that an external handed out is
// not queued again while the caller has not come back to Wait, and is
// reported again once it has, as long as it is left unread.
func TestExternalNotRepeatedBeforeWait(t *testing.T) {
	l := newLoop(t, Options{})
	serve(t, l, "svc", ServiceOptions{})
	c := dial(t, l, "svc")
	expect(t, l, EventConnection)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	fd, _ := dupFd(r)
	x, err := l.AddExternal(fd)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	w.Write([]byte("unread"))
	expect(t, l, EventExternal)
	// Not back to Wait yet: a message comes, and the external is not
	// reported again before the caller is back.
	if err := c.Write([]byte("m")); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, l); ev.Type != EventMessage {
		t.Fatalf("got %v, want the message", ev.Type)
	}
	// Back in Wait with the pipe still unread: reported again.
	if ev := next(t, l); ev.Type != EventExternal || ev.External != x {
		t.Fatalf("got %v, want the unread external again", ev.Type)
	}
}

func TestExternalClosedByPeer(t *testing.T) {
	l := newLoop(t, Options{})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	fd, _ := dupFd(r)
	x, err := l.AddExternal(fd)
	if err != nil {
		t.Fatal(err)
	}
	w.Close() // end of file is "ready to read" too
	ev := expect(t, l, EventExternal)
	if n, err := x.File().Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("read %d, %v: want end of file", n, err)
	}
	_ = ev
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	for {
		ev, err := l.Wait(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Type == EventExternal && ev.Err == nil {
			continue // re-armed once before the Close
		}
	}
}

func TestAddExternalBadFd(t *testing.T) {
	l := newLoop(t, Options{})
	if _, err := l.AddExternal(-1); err == nil {
		t.Fatal("fd -1 accepted")
	}
}

// dupFd returns a new descriptor for f and closes f.
func dupFd(f *os.File) (int, error) {
	defer f.Close()
	raw, err := f.SyscallConn()
	if err != nil {
		return -1, err
	}
	nfd := -1
	var derr error
	raw.Control(func(fd uintptr) { nfd, derr = dup(int(fd)) })
	return nfd, derr
}

func dup(fd int) (int, error) { return unix.Dup(fd) }

// TestAddExternalRegularFile: a regular file cannot be polled; it is
// refused rather than reported ready at every Wait.
func TestAddExternalRegularFile(t *testing.T) {
	l := newLoop(t, Options{})
	f, err := os.CreateTemp(t.TempDir(), "regular")
	if err != nil {
		t.Fatal(err)
	}
	fd, err := dupFd(f)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if _, err := l.AddExternal(fd); err == nil {
		t.Fatal("a regular file was accepted as an external")
	}
}

package commands

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestStoppingSentBeforeReturn: once the deferred function of
// stoppingOnDone returns, STOPPING=1 has reached NOTIFY_SOCKET, so a
// switch stopped by a signal never exits with it still on its way.
func TestStoppingSentBeforeReturn(t *testing.T) {
	dir, err := os.MkdirTemp("/tmp", "sw")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t.Setenv("NOTIFY_SOCKET", path)
	buf := make([]byte, 64)
	for i := 0; i < 100; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		done := stoppingOnDone(ctx, &manager{readyFD: -1})
		cancel()
		done()
		c.SetReadDeadline(time.Now().Add(time.Millisecond))
		n, err := c.Read(buf)
		if err != nil || string(buf[:n]) != "STOPPING=1\n" {
			t.Fatalf("run %d: read %q, %v right after the switch's end: want STOPPING=1", i, buf[:n], err)
		}
	}
}

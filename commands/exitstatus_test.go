package commands

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
)

// runStatus runs the command line args in this process and returns its
// exit status.
func runStatus(args ...string) int {
	app := NewApp("test")
	app.Writer, app.ErrWriter = io.Discard, io.Discard
	app.Reader = strings.NewReader("a\nb\n")
	return ExitCode(Run(app, append([]string{"ipcctl"}, args...)))
}

// statusCounts runs args n times and counts the exit statuses.
func statusCounts(n int, args ...string) map[int]int {
	counts := map[int]int{}
	for i := 0; i < n; i++ {
		counts[runStatus(args...)]++
	}
	return counts
}

// TestSendStatusOfClosingPeer: against a peer that accepts and closes at
// once, send -w is 69 every time, whether it has written yet or not, and
// connect 0; a real refusal by an allow list is 77 every time.
func TestSendStatusOfClosingPeer(t *testing.T) {
	dir, err := os.MkdirTemp("/tmp", "es")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ln, err := net.Listen("unix", filepath.Join(dir, "quick"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	const runs = 500
	if got := statusCounts(runs, "--rundir", dir, "send", "-w", "--timeout", "10s", "quick", "hi"); got[69] != runs {
		t.Errorf("send -w against a peer that closes at once: exit statuses %v, want %d × 69", got, runs)
	}
	if got := statusCounts(runs/5, "--rundir", dir, "send", "quick", "a", "b", "c"); got[0]+got[69] != runs/5 {
		t.Errorf("send against a peer that closes at once: exit statuses %v, want only 0 (written) or 69", got)
	}
	// connect ends when the service closes, however the close shows.
	if got := statusCounts(runs/5, "--rundir", dir, "connect", "--linger", "1s", "quick"); got[0] != runs/5 {
		t.Errorf("connect against a peer that closes at once: exit statuses %v, want %d × 0", got, runs/5)
	}

	l := ipc.NewLoop(ipc.Options{RunDir: dir})
	defer l.Close()
	if _, err := l.Listen("au", ipc.ServiceOptions{Allow: &ipc.Allow{UIDs: []int{os.Geteuid() + 4242}}}); err != nil {
		t.Fatal(err)
	}
	if got := statusCounts(runs/2, "--rundir", dir, "send", "-w", "--timeout", "10s", "au", "hi"); got[77] != runs/2 {
		t.Errorf("send -w refused by an allow list: exit statuses %v, want %d × 77", got, runs/2)
	}
}

// TestSendReplyThenClose: a service that answers every message and closes
// at once has answered them all, however late the sending side notes what
// it sent: send -w exits 0 every time, for arguments and for stdin.
func TestSendReplyThenClose(t *testing.T) {
	dir, err := os.MkdirTemp("/tmp", "es")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	// Each name answers that many messages, then closes.
	for name, n := range map[string]int{"one": 1, "two": 2} {
		ln, err := net.Listen("unix", filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go answerThenClose(ln, n)
	}
	// Widen the window between the last write and the sender's count.
	afterSend = func() { time.Sleep(20 * time.Millisecond) }
	defer func() { afterSend = nil }()
	const runs = 40
	if got := statusCounts(runs, "--rundir", dir, "send", "-w", "--timeout", "10s", "one", "hi"); got[0] != runs {
		t.Errorf("send -w MSG, answered then closed: exit statuses %v, want %d × 0", got, runs)
	}
	if got := statusCounts(runs, "--rundir", dir, "send", "-w", "--timeout", "10s", "two"); got[0] != runs {
		t.Errorf("send -w of two stdin lines, answered then closed: exit statuses %v, want %d × 0", got, runs)
	}
}

// answerThenClose answers n frames of each client of ln, then closes it.
func answerThenClose(ln net.Listener, n int) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			fr := ipc.NewFrameReader(c, 0)
			for i := 0; i < n; i++ {
				p, err := fr.ReadFrame()
				if err != nil {
					return
				}
				if err := ipc.WriteFrame(c, p); err != nil {
					return
				}
			}
		}()
	}
}

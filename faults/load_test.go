package faults

import (
	"bytes"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A client that floods an echo service and never reads its replies:
// serve's memory stays bounded (its queues are), the client is cut off,
// and the service goes on.
func TestFloodWithoutReading(t *testing.T) {
	dir := runDir(t)
	s := serve(t, dir, "svc", "--exec", "cat", "--raw")
	c := dial(t, dir, "svc")
	msg := frame(string(bytes.Repeat([]byte("f"), 64<<10)))
	done := make(chan int64)
	go func() {
		var sent int64
		for sent < 512<<20 {
			c.SetWriteDeadline(time.Now().Add(patience))
			n, err := c.Write(msg)
			sent += int64(n)
			if err != nil {
				break
			}
		}
		done <- sent
	}()
	peak := 0
	var sent int64
	for waiting := true; waiting; {
		select {
		case sent = <-done:
			waiting = false
		case <-time.After(20 * time.Millisecond):
		}
		if rss, err := rssNow(s.pid()); err == nil && rss > peak {
			peak = rss
		}
	}
	if sent >= 512<<20 {
		t.Fatalf("the service took %d MiB from a client that reads nothing", sent>>20)
	}
	s.waitLine(t, 0, "^error\t1\t")
	s.waitLine(t, 0, "^disconnection\t1($|\t)")
	if peak > 96 {
		t.Fatalf("serve's memory reached %d MiB", peak)
	}
	roundTrip(t, dir, "svc", "after-the-flood")
	t.Logf("cut off after %d MiB; peak RSS %d MiB", sent>>20, peak)
}

// rssNow returns the resident memory of pid in MiB, or an error once it
// is gone.
func rssNow(pid int) (int, error) {
	kb, err := statusOf(pid, "VmRSS")
	return kb / 1024, err
}

// SIGTERM under load loses nothing serve accepted: every message it read
// from a client is printed, in order and whole, before that client's
// disconnection; every broadcast it read from its stdin reaches every
// listener; and it exits 0.
func TestShutdownUnderLoad(t *testing.T) {
	dir := runDir(t)
	s := serve(t, dir, "svc")
	const senders, listeners = 3, 3
	var ls []*proc
	for i := 0; i < listeners; i++ {
		ls = append(ls, start(t, command(dir, "listen", "svc")))
	}
	settle(t, func() bool { return s.count("^connection\t") == listeners },
		func() string { return strings.Join(s.output(), "\n") })
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < senders; i++ {
		c, err := net.Dial("unix", filepath.Join(dir, "svc"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for n := 1; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := c.Write(frame(fmt.Sprintf("s%d-%d", i, n))); err != nil {
					return
				}
			}
		}(i)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 1; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := fmt.Fprintf(s.stdin, "broadcast b%d\n", n); err != nil {
				return
			}
		}
	}()
	settle(t, func() bool { return s.count("^message\t") > 1000 },
		func() string { return "no load" })
	kill(t, s, syscall.SIGTERM)
	if code := s.wait(t); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	close(stop)
	wg.Wait()
	checkReceived(t, s.output())
	var got []int
	for _, l := range ls {
		l.wait(t)
		got = append(got, gapless(t, l.output(), "b"))
	}
	for _, n := range got[1:] {
		if n != got[0] {
			t.Fatalf("listeners got %v broadcasts, not all the same", got)
		}
	}
	t.Logf("%d messages read, %d broadcasts delivered to each listener", s.count("^message\t"), got[0])
}

// checkReceived checks that each client's messages in serve's output are
// numbered 1, 2, 3... without a gap, whole, and come before its
// disconnection.
func checkReceived(t *testing.T, out []string) {
	t.Helper()
	last := map[string]int{}
	gone := map[string]bool{}
	for _, line := range out {
		f := strings.Split(line, "\t")
		switch f[0] {
		case "message":
			if gone[f[1]] {
				t.Fatalf("message after the disconnection of %s: %q", f[1], line)
			}
			_, num, ok := strings.Cut(f[3], "-") // EVENT CLIENT TIME PAYLOAD
			n, err := strconv.Atoi(num)
			if !ok || err != nil || n != last[f[1]]+1 {
				t.Fatalf("client %s: %q after message %d", f[1], f[3], last[f[1]])
			}
			last[f[1]] = n
		case "disconnection":
			gone[f[1]] = true
		}
	}
	if len(last) == 0 {
		t.Fatal("no message read")
	}
}

// gapless checks that lines are prefix1, prefix2, ... and returns how
// many.
func gapless(t *testing.T, lines []string, prefix string) int {
	t.Helper()
	for i, l := range lines {
		if l != prefix+strconv.Itoa(i+1) {
			t.Fatalf("line %d is %q, want %s%d", i+1, l, prefix, i+1)
		}
	}
	return len(lines)
}

package faults

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Length prefixes at and past the limit: 0 and the limit are messages;
// limit+1 and 2^32-1 are refused with an error event, the connection is
// closed, and the service goes on.
func TestLengthPrefixes(t *testing.T) {
	t.Parallel()
	const limit = 1 << 20
	dir := runDir(t)
	s := serve(t, dir, "svc")
	c := dial(t, dir, "svc")
	s.waitLine(t, 0, "^connection\t1\t")
	c.Write(frame(""))
	s.waitLine(t, 0, "^message\t1\t[^\t]+\t$")
	big := bytes.Repeat([]byte("x"), limit)
	go c.Write(append(prefix(limit), big...))
	line, _ := s.waitLine(t, 0, "^message\t1\t[^\t]+\tx")
	if cols := strings.Split(line, "\t"); len(cols) != 4 || len(cols[3]) != limit {
		t.Fatalf("message of the limit: %d bytes printed", len(line))
	}

	for id, n := range []uint32{limit + 1, 1<<32 - 1} {
		c := dial(t, dir, "svc")
		c.Write(append(prefix(n), "some bytes"...))
		s.waitLine(t, 0, fmt.Sprintf("^error\t%d\t[^\t]+\t\terror=frame too large: %d bytes announced, limit is %d$", id+2, n, limit))
		s.waitLine(t, 0, fmt.Sprintf("^disconnection\t%d($|\t)", id+2))
		if !closedByPeer(c) {
			t.Fatalf("prefix %d: connection not closed", n)
		}
	}
	c.Write(frame("still here"))
	s.waitLine(t, 0, "^message\t1\t[^\t]+\tstill here$")
	if st := status(t, s.pid(), "VmRSS"); st > 200<<10 {
		t.Fatalf("serve holds %d kB", st)
	}
}

// A client that sends a frame byte by byte (slowloris) is closed at the
// frame deadline, not before; one that finishes in time is not.
func TestSlowloris(t *testing.T) {
	t.Parallel()
	dir := runDir(t)
	const deadline = time.Second
	s := serve(t, dir, "svc", "--frame-timeout", deadline.String())
	slow := dial(t, dir, "svc")
	s.waitLine(t, 0, "^connection\t1\t")
	begun := time.Now()
	slow.Write(prefix(1000))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // a byte every 100 ms, until closed
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				if _, err := slow.Write([]byte{'x'}); err != nil {
					return
				}
			}
		}
	}()
	s.waitLine(t, 0, "^error\t1\t[^\t]+\t\terror=timed out: the client began a frame and did not finish it within 1s$")
	if took := time.Since(begun); took < deadline {
		t.Fatalf("closed after %v, before the deadline", took)
	}
	s.waitLine(t, 0, "^disconnection\t1($|\t)")
	close(stop)
	wg.Wait()

	quick := dial(t, dir, "svc")
	quick.Write(append(prefix(4), "ab"...))
	time.Sleep(deadline / 2)
	quick.Write([]byte("cd"))
	s.waitLine(t, 0, "^message\t2\t[^\t]+\tabcd$")
	time.Sleep(deadline * 3 / 2) // idle between frames is not late
	quick.Write(frame("later"))
	s.waitLine(t, 0, "^message\t2\t[^\t]+\tlater$")
}

// 200 clients each holding a frame of 1 MiB - 1 all but sent: the
// service holds at most --max-buffered for them (64 MiB by default),
// closes the ones past it, and goes on.
func TestMemoryCap(t *testing.T) {
	dir := runDir(t)
	s := serve(t, dir, "svc", "--frame-timeout", "0")
	const clients, size = 200, 1<<20 - 1
	body := bytes.Repeat([]byte("m"), size-1) // the last byte never comes
	conns := make([]*net.UnixConn, clients)
	var wg sync.WaitGroup
	for i := range conns {
		conns[i] = dial(t, dir, "svc")
		wg.Add(1)
		go func(c *net.UnixConn) {
			defer wg.Done()
			c.Write(append(prefix(size), body...)) // fails for those closed
		}(conns[i])
	}
	wg.Wait()
	overloaded := "^error\t\\d+\t[^\t]+\t\terror=service overloaded"
	settle(t, func() bool { return s.count(overloaded) >= clients-64 },
		func() string { return fmt.Sprintf("%d clients closed", s.count(overloaded)) })
	held := clients - s.count(overloaded)
	if held < 32 || s.count("^error\t") != clients-held {
		t.Fatalf("%d clients hold a partial frame, want about 64 MiB of them:\n%s", held, strings.Join(s.output(), "\n"))
	}
	if rss := rssMiB(t, s.pid()); rss > 64+48 {
		t.Fatalf("serve holds %d MiB for 64 MiB of partial frames", rss)
	}
	roundTripStream(t, dir, s)
	t.Logf("%d of %d clients held, RSS %d MiB", held, clients, rssMiB(t, s.pid()))
}

// --max-buffered sets the bound.
func TestMemoryCapFlag(t *testing.T) {
	dir := runDir(t)
	s := serve(t, dir, "svc", "--max-buffered", "4MiB", "--max-size", "1MiB")
	var held []*net.UnixConn
	for i := 0; i < 5; i++ {
		c := dial(t, dir, "svc")
		c.Write(append(prefix(1<<20-4), "abc"...))
		held = append(held, c)
		s.waitLine(t, 0, fmt.Sprintf("^connection\t%d\t", i+1))
	}
	s.waitLine(t, 0, "^error\t5\t[^\t]+\t\terror=service overloaded: a frame of 1048572 bytes would pass the 4194304 bytes")
	s.waitLine(t, 0, "^disconnection\t5($|\t)")
	if n := s.count("^error\t"); n != 1 {
		t.Fatalf("%d errors, want the fifth client's only", n)
	}
	if !closedByPeer(held[4]) {
		t.Fatal("the client past the bound is not closed")
	}
}

package faults

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// modes are serve's three ways of serving, each with the arguments that
// make it answer a message with the same message ("" when the test's
// script does not answer: stream mode).
var modes = []struct {
	name, reply string
	args        []string
	// cycles is how many connect cycles TestConnectCycles makes, and
	// every how many of them exchange a message; the others connect and
	// close. Each process costs a fork and exec: modes that start one per
	// client or message make fewer.
	cycles, every int
}{
	{"stream", "", nil, 5000, 1},
	{"exec", "x", []string{"--exec", "cat"}, 500, 1},
	{"handler", "x", []string{"--handler", "cat"}, 5000, 25},
}

// facts are what a service holds that a leak would grow.
type facts struct{ fds, children, threads int }

func factsOf(t testing.TB, pid int) facts {
	return facts{fds(t, pid), len(children(pid)), status(t, pid, "Threads")}
}

// settleBack waits until the service holds no more fds and children than
// at first.
func settleBack(t testing.TB, pid int, before facts) {
	t.Helper()
	settle(t, func() bool {
		now := factsOf(t, pid)
		return now.fds <= before.fds && now.children == 0
	}, func() string { return fmt.Sprintf("before %+v, now %+v", before, factsOf(t, pid)) })
}

// cycle connects to the socket at path, sends one message when talk is
// set, reads the reply when one is due, and closes.
func cycle(path, reply string, talk bool) error {
	c, err := dialBusy(path)
	if err != nil {
		return err
	}
	defer c.Close()
	if !talk {
		return nil
	}
	if _, err := c.Write(frame("x")); err != nil {
		return err
	}
	if reply == "" {
		return nil
	}
	p, err := readFrame(c)
	if err != nil || string(p) != reply {
		return fmt.Errorf("reply %q, %v", p, err)
	}
	return nil
}

// dialBusy connects to the socket at path, again while its backlog is
// full (EAGAIN): a service that accepts slower than clients connect is
// busy, not broken.
func dialBusy(path string) (net.Conn, error) {
	for i := 0; ; i++ {
		c, err := net.Dial("unix", path)
		if !errors.Is(err, syscall.EAGAIN) || i == 1000 {
			return c, err
		}
		time.Sleep(time.Millisecond)
	}
}

// 5,000 connect cycles (500 with --exec) in each mode leave the service as they found it:
// the same fds, no child processes, and it still answers.
func TestConnectCycles(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			const workers = 4
			cycles := int64(m.cycles)
			dir := runDir(t)
			s := serve(t, dir, "svc", m.args...)
			path := filepath.Join(dir, "svc")
			if err := cycle(path, m.reply, true); err != nil {
				t.Fatal(err)
			}
			settleBack(t, s.pid(), facts{fds: 1 << 20})
			before := factsOf(t, s.pid())
			var next, failed atomic.Int64
			var first atomic.Value
			var wg sync.WaitGroup
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := next.Add(1); i <= cycles; i = next.Add(1) {
						if err := cycle(path, m.reply, i%int64(m.every) == 0); err != nil {
							failed.Add(1)
							first.CompareAndSwap(nil, err.Error())
						}
					}
				}()
			}
			wg.Wait()
			if n := failed.Load(); n > 0 {
				t.Fatalf("%d of %d cycles failed; first: %v", n, cycles, first.Load())
			}
			settle(t, func() bool { return int64(s.count("^disconnection\t")) == cycles+1 },
				func() string { return fmt.Sprintf("%d disconnections", s.count("^disconnection\t")) })
			settleBack(t, s.pid(), before)
			after := factsOf(t, s.pid())
			for _, line := range s.output() {
				// A process slow to exit on a loaded machine is reported
				// (killed after its grace), and is no leak.
				if strings.HasPrefix(line, "error\t") {
					t.Logf("reported: %s", line)
				}
			}
			if after.threads > before.threads+32 {
				t.Fatalf("threads grew from %d to %d", before.threads, after.threads)
			}
			t.Logf("before %+v, after %+v", before, after)
		})
	}
}

// Out of file descriptors (ulimit -n 64), in every mode: clients past
// what fds allow fail or wait, the service goes on, and once they leave
// it serves again with the fds it had.
func TestFdExhaustion(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			dir := runDir(t)
			args := append([]string{"--nofile=64:64", bin, "serve", "svc"}, m.args...)
			cmd := command(dir, args...)
			cmd.Path, cmd.Args = "/usr/bin/prlimit", append([]string{"prlimit"}, args...)
			s := start(t, cmd)
			s.waitLine(t, 0, "^listening\t")
			path := filepath.Join(dir, "svc")
			if err := cycle(path, m.reply, true); err != nil {
				t.Fatal(err)
			}
			settleBack(t, s.pid(), facts{fds: 1 << 20})
			before := factsOf(t, s.pid())

			var conns []net.Conn
			for i := 0; i < 100; i++ {
				c, err := net.DialTimeout("unix", path, time.Second)
				if err != nil {
					break // the backlog is full: the service accepts no more
				}
				c.Write(frame("x"))
				conns = append(conns, c)
			}
			settle(t, func() bool { return fds(t, s.pid()) >= 60 },
				func() string { return fmt.Sprintf("%d fds", fds(t, s.pid())) })
			for _, c := range conns {
				c.Close()
			}
			settleBack(t, s.pid(), before)
			for i := 0; i < 20; i++ {
				if err := retry(func() error { return cycle(path, m.reply, true) }); err != nil {
					t.Fatalf("after exhaustion: %v\n%s", err, strings.Join(s.output(), "\n"))
				}
			}
			settleBack(t, s.pid(), before)
		})
	}
}

// retry runs f until it succeeds, for a few seconds: right after fd
// exhaustion a service may still be closing what it had.
func retry(f func() error) error {
	var err error
	for i := 0; i < 50; i++ {
		if err = f(); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

package faults

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// bin is the ipcctl binary under test, built once by TestMain.
var bin string

// patience bounds every wait of the suite: generous, since the machine
// may be loaded; a case that passes never waits that long.
const patience = 20 * time.Second

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helper(mode))
	}
	dir, err := os.MkdirTemp("", "faults")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "ipcctl")
	build := exec.Command("go", "build", "-o", bin, "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building ipcctl:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runDir returns a short run directory of the test's own: a Unix socket
// path holds at most 107 bytes.
func runDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "f")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// proc is a running ipcctl (or helper) process whose stdout lines are
// collected.
type proc struct {
	cmd   *exec.Cmd
	stdin *os.File // nil when the process has none of ours

	mu     sync.Mutex
	lines  []string
	stderr strings.Builder
	more   chan struct{} // closed and replaced when a line comes
	done   chan struct{} // closed once it exited
	err    error         // of Wait
}

// command returns an ipcctl command with the run directory dir.
func command(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "IPC_RUNDIR="+dir, "NO_COLOR=1")
	return cmd
}

// start starts cmd with a stdin pipe and collects its output; the
// process is killed when the test ends.
func start(t testing.TB, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{cmd: cmd, more: make(chan struct{}), done: make(chan struct{})}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stdin = in.(*os.File)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &lockedBuilder{p: p}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go p.collect(bufio.NewReader(out))
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%v: stderr:\n%s", cmd.Args, p.errText())
		}
	})
	return p
}

type lockedBuilder struct{ p *proc }

func (w *lockedBuilder) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.stderr.Write(b)
}

func (p *proc) collect(r *bufio.Reader) {
	for {
		line, err := r.ReadString('\n')
		if line != "" {
			p.mu.Lock()
			p.lines = append(p.lines, strings.TrimSuffix(line, "\n"))
			close(p.more)
			p.more = make(chan struct{})
			p.mu.Unlock()
		}
		if err != nil {
			break
		}
	}
	p.err = p.cmd.Wait()
	close(p.done)
}

func (p *proc) errText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// output returns the lines printed so far.
func (p *proc) output() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

// waitLine waits for a line matching pattern from the from-th line on and
// returns it with its index.
func (p *proc) waitLine(t testing.TB, from int, pattern string) (string, int) {
	t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.After(patience)
	for i := from; ; {
		p.mu.Lock()
		for ; i < len(p.lines); i++ {
			if re.MatchString(p.lines[i]) {
				line := p.lines[i]
				p.mu.Unlock()
				return line, i
			}
		}
		more := p.more
		p.mu.Unlock()
		select {
		case <-more:
		case <-p.done:
			if len(p.output()) == i {
				t.Fatalf("%v exited (%v) without printing %q; printed:\n%s\nstderr:\n%s",
					p.cmd.Args, p.err, pattern, strings.Join(p.output(), "\n"), p.errText())
			}
		case <-deadline:
			t.Fatalf("%v did not print %q within %v; printed:\n%s", p.cmd.Args, pattern, patience,
				strings.Join(p.output(), "\n"))
		}
	}
}

// count returns how many lines match pattern.
func (p *proc) count(pattern string) int {
	re := regexp.MustCompile(pattern)
	n := 0
	for _, l := range p.output() {
		if re.MatchString(l) {
			n++
		}
	}
	return n
}

// wait waits for the process to exit and returns its exit status.
func (p *proc) wait(t testing.TB) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(patience):
		t.Fatalf("%v still running after %v", p.cmd.Args, patience)
	}
	return p.cmd.ProcessState.ExitCode()
}

// pid returns the process's pid.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// serve starts "ipcctl serve NAME ARGS..." in dir and waits until it
// listens.
func serve(t testing.TB, dir, name string, args ...string) *proc {
	t.Helper()
	p := start(t, command(dir, append([]string{"serve", name}, args...)...))
	p.waitLine(t, 0, "^listening\t")
	return p
}

// dial connects to service name in dir as a raw client.
func dial(t testing.TB, dir, name string) *net.UnixConn {
	t.Helper()
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: filepath.Join(dir, name), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// frame returns payload as a LibIPC frame.
func frame(payload string) []byte {
	n := len(payload)
	return append([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, payload...)
}

// prefix returns a length prefix announcing n bytes.
func prefix(n uint32) []byte { return []byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)} }

// readFrame reads one frame from c, waiting at most patience.
func readFrame(c net.Conn) ([]byte, error) {
	c.SetReadDeadline(time.Now().Add(patience))
	var h [4]byte
	if _, err := readFull(c, h[:]); err != nil {
		return nil, err
	}
	p := make([]byte, int(h[0])<<24|int(h[1])<<16|int(h[2])<<8|int(h[3]))
	_, err := readFull(c, p)
	return p, err
}

func readFull(c net.Conn, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := c.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// closedByPeer reports whether the peer has closed c: a read ends with an
// error (end of stream or reset) before patience.
func closedByPeer(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(patience))
	buf := make([]byte, 64<<10)
	for {
		if _, err := c.Read(buf); err != nil {
			var ne net.Error
			return !(errorAs(err, &ne) && ne.Timeout())
		}
	}
}

func errorAs(err error, ne *net.Error) bool {
	e, ok := err.(net.Error)
	if ok {
		*ne = e
	}
	return ok
}

// roundTrip runs "ipcctl send -w NAME MSG" and checks the reply.
func roundTrip(t testing.TB, dir, name, msg string) {
	t.Helper()
	out, err := command(dir, "send", "-w", "--timeout", "10s", name, msg).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != msg {
		t.Fatalf("send -w %s %s: %q, %v", name, msg, out, err)
	}
}

// The process facts the suite counts, from /proc.

// fds returns how many file descriptors pid has open.
func fds(t testing.TB, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// status returns a number field (in kB for sizes) of /proc/PID/status.
func status(t testing.TB, pid int, field string) int {
	t.Helper()
	n, err := statusOf(pid, field)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// statusOf returns a number field of /proc/PID/status, or an error once
// the process is gone.
func statusOf(pid int, field string) (int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.Atoi(strings.Fields(v)[0])
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// rssMiB returns the resident memory of pid in MiB.
func rssMiB(t testing.TB, pid int) int { return status(t, pid, "VmRSS") / 1024 }

// children returns the pids of pid's child processes.
func children(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	var kids []int
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n))
		if err != nil {
			continue
		}
		// The fields after the command name (in parentheses) start with
		// the state, then the parent's pid.
		s := string(data)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			kids = append(kids, n)
		}
	}
	return kids
}

// settle waits until cond holds, failing with what describe says after
// patience.
func settle(t testing.TB, cond func() bool, describe func() string) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", patience, describe())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ctx returns a context ended after patience or with the test.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), patience)
	t.Cleanup(cancel)
	return c
}

// kill sends sig to p.
func kill(t testing.TB, p *proc, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

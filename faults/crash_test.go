package faults

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A client killed in the middle of a frame is reported and dropped; the
// service and its other clients go on.
func TestClientKilledMidFrame(t *testing.T) {
	dir := runDir(t)
	s := serve(t, dir, "svc")
	other := dial(t, dir, "svc")
	s.waitLine(t, 0, "^connection\t1\t")

	h := start(t, helperCmd("partial", filepath.Join(dir, "svc")))
	h.waitLine(t, 0, "^ready$")
	s.waitLine(t, 0, "^connection\t2\t")
	kill(t, h, syscall.SIGKILL)
	s.waitLine(t, 0, "^error\t2\t[^\t]+\t\terror=bad data: connection closed in the middle of a frame$")
	s.waitLine(t, 0, "^disconnection\t2($|\t)")

	other.Write(frame("after"))
	s.waitLine(t, 0, "^message\t1\t[^\t]+\tafter$")
	roundTripStream(t, dir, s)
}

// roundTripStream checks that a stream-mode service still answers: the
// test plays its script.
func roundTripStream(t *testing.T, dir string, s *proc) {
	t.Helper()
	from := len(s.output())
	c := dial(t, dir, "svc")
	line, _ := s.waitLine(t, from, "^connection\t")
	id := strings.Split(line, "\t")[1]
	if _, err := s.stdin.WriteString("send " + id + " pong\n"); err != nil {
		t.Fatal(err)
	}
	if p, err := readFrame(c); err != nil || string(p) != "pong" {
		t.Fatalf("reply %q, %v", p, err)
	}
}

// A client killed while its request is being handled: the handler's
// reply goes nowhere, and the service and its other clients go on.
func TestClientKilledMidRequest(t *testing.T) {
	t.Parallel()
	dir := runDir(t)
	s := serve(t, dir, "svc", "--handler", "sleep 0.5; cat")
	h := start(t, helperCmd("request", filepath.Join(dir, "svc")))
	h.waitLine(t, 0, "^ready$")
	s.waitLine(t, 0, "^connection\t1\t")
	kill(t, h, syscall.SIGKILL)
	s.waitLine(t, 0, "^disconnection\t1")
	roundTrip(t, dir, "svc", "still-answered")
	settle(t, func() bool { return len(children(s.pid())) == 0 },
		func() string { return "handlers still running" })
	roundTrip(t, dir, "svc", "and-again")
}

// A service killed: its clients learn it at once. One waiting for a reply
// exits 69; a listener and an interactive session end (a killed service
// and one that closes them look the same to them: the end of stream).
func TestServiceKilled(t *testing.T) {
	dir := runDir(t)
	s := serve(t, dir, "svc")
	waiting := []*proc{
		start(t, command(dir, "send", "-w", "--timeout", "60s", "svc", "waiting")),
		start(t, command(dir, "send", "-w", "--timeout", "60s", "svc", "waiting")),
	}
	others := []*proc{
		start(t, command(dir, "listen", "--timeout", "60s", "svc")),
		start(t, command(dir, "connect", "svc")),
	}
	settle(t, func() bool { return s.count("^connection\t") == 4 && s.count("^message\t") == 2 },
		func() string { return strings.Join(s.output(), "\n") })
	kill(t, s, syscall.SIGKILL)
	for _, c := range waiting {
		if code := c.wait(t); code != 69 {
			t.Errorf("%v exited %d, want 69; stderr: %s", c.cmd.Args, code, c.errText())
		}
	}
	for _, c := range others {
		c.wait(t) // well before its 60 s
	}
	// The stale socket is replaced by the next serve.
	roundTripStream(t, dir, serve(t, dir, "svc"))
}

// A second serve of a live name is refused and leaves the live socket
// alone.
func TestSecondServeRefused(t *testing.T) {
	t.Parallel()
	dir := runDir(t)
	s := serve(t, dir, "svc")
	before, err := os.Stat(filepath.Join(dir, "svc"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := command(dir, "serve", "svc").CombinedOutput()
	if code := exitCode(err); code != 1 || !strings.Contains(string(out), "already running") {
		t.Fatalf("second serve: exit %d, %q", code, out)
	}
	after, err := os.Stat(filepath.Join(dir, "svc"))
	if err != nil || !os.SameFile(before, after) {
		t.Fatalf("the live socket was touched: %v", err)
	}
	roundTripStream(t, dir, s)
}

// exitCode returns the exit status in err from an exec.Cmd (0 for nil).
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(interface{ ExitCode() int }); ok {
		return ee.ExitCode()
	}
	return -1
}

package ipc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// helperEnv selects what the test binary does when re-executed as a peer
// process (see TestHelperProcess).
const helperEnv = "IPC_TEST_HELPER"

// helperProcess starts the test binary as a peer process running mode with
// args, and returns its command, stdin and stdout.
func helperProcess(t testing.TB, mode string, args ...string) (*exec.Cmd, *os.File, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode+" "+strings.Join(args, " "))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd, stdin.(*os.File), bufio.NewReader(stdout)
}

// TestHelperProcess is not a test: it is the peer process of the tests
// and benchmarks that need two processes.
func TestHelperProcess(t *testing.T) {
	spec := os.Getenv(helperEnv)
	if spec == "" {
		t.Skip("only run as a peer process")
	}
	args := strings.Fields(spec)
	if args[0] != "listen" {
		go func() { // the end of stdin means the test is over
			io.Copy(io.Discard, os.Stdin)
			os.Exit(0)
		}()
	}
	var err error
	switch args[0] {
	case "listen": // listen DIR NAME: print won or lost, hold until stdin ends
		err = helperListen(args[1], args[2])
	case "echo": // echo DIR NAME: an echo service, until stdin ends
		err = helperEcho(args[1], args[2])
	case "count": // count DIR NAME: count messages, print the count on each disconnection
		err = helperCount(args[1], args[2])
	case "rawecho": // rawecho PATH: raw ping-pong with a fixed message size
		err = helperRawEcho(args[1])
	case "rawcount": // rawcount PATH: count frames of raw streams
		err = helperRawCount(args[1])
	default:
		err = fmt.Errorf("unknown helper mode %q", args[0])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func helperListen(dir, name string) error {
	l := NewLoop(Options{RunDir: dir})
	defer l.Close()
	_, err := l.Listen(name, ServiceOptions{})
	switch {
	case err == nil:
		fmt.Println("won")
	case errors.Is(err, ErrAlreadyRunning):
		fmt.Println("lost")
	default:
		return err
	}
	os.Stdin.Read(make([]byte, 1))
	return nil
}

func TestServiceEvents(t *testing.T) {
	l := newLoop(t, Options{})
	s := serve(t, l, "svc", ServiceOptions{})
	if s.Name() != "svc" || s.Path() != filepath.Join(l.RunDir(), "svc") {
		t.Fatalf("name %q path %q", s.Name(), s.Path())
	}
	fi, err := os.Stat(s.Path())
	if err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o660 {
		t.Fatalf("socket %v, %v: want a socket with mode 0660", fi.Mode(), err)
	}
	c := dial(t, l, "svc")

	ev := expect(t, l, EventConnection)
	if ev.Service != s || ev.Conn == nil {
		t.Fatalf("connection event: service %v conn %v", ev.Service, ev.Conn)
	}
	want := Cred{PID: os.Getpid(), UID: os.Getuid(), GID: os.Getgid()}
	if ev.Conn.Peer() != want {
		t.Fatalf("peer %+v, want %+v", ev.Conn.Peer(), want)
	}
	sc := ev.Conn
	if l.Conn(sc.ID()) != sc {
		t.Fatal("the client is not listed")
	}

	for _, p := range [][]byte{[]byte("hello"), {}, bytes.Repeat([]byte{0, 0xff}, 70000)} {
		if err := c.Write(p); err != nil {
			t.Fatal(err)
		}
		ev = expect(t, l, EventMessage)
		if ev.Conn != sc || ev.Service != s || !bytes.Equal(ev.Payload, p) || ev.Time.IsZero() {
			t.Fatalf("message event: conn %v, %d bytes, want %d", ev.Conn.ID(), len(ev.Payload), len(p))
		}
	}
	c.Close()
	ev = expect(t, l, EventDisconnection)
	if ev.Conn != sc || ev.Service != s || ev.Err != nil {
		t.Fatalf("disconnection: conn %v service %v err %v", ev.Conn, ev.Service, ev.Err)
	}
	if l.Conn(sc.ID()) != nil {
		t.Fatal("a gone client is still listed")
	}
}

func TestServiceCloseRemovesSocket(t *testing.T) {
	l := newLoop(t, Options{})
	s := serve(t, l, "svc", ServiceOptions{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Path()); !os.IsNotExist(err) {
		t.Fatalf("socket still there: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// The name is free again, in the same loop or another.
	serve(t, newLoop(t, Options{RunDir: l.RunDir()}), "svc", ServiceOptions{})
}

func TestServiceReplacesStaleSocket(t *testing.T) {
	dir := runDir(t)
	path := filepath.Join(dir, "svc")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close() // the file stays; nothing accepts on it

	ctx := context.Background()
	if _, err := Dial(ctx, "svc", DialOptions{RunDir: dir}); !errors.Is(err, ErrRefused) {
		t.Fatalf("dial of a stale socket: got %v, want ErrRefused", err)
	}
	l := newLoop(t, Options{RunDir: dir})
	serve(t, l, "svc", ServiceOptions{})
	c := dial(t, l, "svc")
	expect(t, l, EventConnection)
	c.Write([]byte("hi"))
	if ev := expect(t, l, EventMessage); string(ev.Payload) != "hi" {
		t.Fatalf("got %q", ev.Payload)
	}
}

// TestServiceKeepsOtherFiles: a file that is not a socket where the
// service's socket would go is left alone, and the service refused.
func TestServiceKeepsOtherFiles(t *testing.T) {
	dir := runDir(t)
	path := filepath.Join(dir, "notes")
	if err := os.WriteFile(path, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	l := NewLoop(Options{RunDir: dir})
	defer l.Close()
	if _, err := l.Listen("notes", ServiceOptions{}); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("Listen over a regular file: %v", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "keep me" {
		t.Fatalf("the file was touched: %q, %v", b, err)
	}
}

func TestServiceAlreadyRunning(t *testing.T) {
	l := newLoop(t, Options{})
	s := serve(t, l, "svc", ServiceOptions{})
	before, err := os.Stat(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	_, err = newLoop(t, Options{RunDir: l.RunDir()}).Listen("svc", ServiceOptions{})
	if !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second Listen: got %v, want ErrAlreadyRunning", err)
	}
	after, err := os.Stat(s.Path())
	if err != nil || !os.SameFile(before, after) {
		t.Fatalf("the live socket was touched: %v", err)
	}
	c := dial(t, l, "svc")
	expect(t, l, EventConnection)
	c.Write([]byte("still here"))
	if ev := expect(t, l, EventMessage); string(ev.Payload) != "still here" {
		t.Fatalf("got %q", ev.Payload)
	}
}

// TestServiceAlreadyRunningForeign: a live socket that is not ours (no
// lock file held, as a program that does not take it) is left alone too.
func TestServiceAlreadyRunningForeign(t *testing.T) {
	dir := runDir(t)
	path := filepath.Join(dir, "svc")
	ln, err := net.Listen("unix", path)
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
	_, err = newLoop(t, Options{RunDir: dir}).Listen("svc", ServiceOptions{})
	if !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("got %v, want ErrAlreadyRunning", err)
	}
	if c, err := net.Dial("unix", path); err != nil {
		t.Fatalf("the foreign socket was touched: %v", err)
	} else {
		c.Close()
	}
}

func TestServiceConcurrentListen(t *testing.T) {
	dir := runDir(t)
	for round := range 20 {
		name := fmt.Sprintf("race%d", round)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		loops := []*Loop{newLoop(t, Options{RunDir: dir}), newLoop(t, Options{RunDir: dir})}
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = loops[i].Listen(name, ServiceOptions{})
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, ErrAlreadyRunning):
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d winners: %v", round, won, errs)
		}
	}
}

func TestServiceConcurrentListenProcesses(t *testing.T) {
	dir := runDir(t)
	var outs []*bufio.Reader
	for range 3 {
		_, _, out := helperProcess(t, "listen", dir, "svc")
		outs = append(outs, out)
	}
	won := 0
	for _, out := range outs {
		line, err := out.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		switch strings.TrimSpace(line) {
		case "won":
			won++
		case "lost":
		default:
			t.Fatalf("helper said %q", line)
		}
	}
	if won != 1 {
		t.Fatalf("%d processes won the name, want 1", won)
	}
}

func TestServicePeerDiesMidFrame(t *testing.T) {
	l := newLoop(t, Options{})
	serve(t, l, "svc", ServiceOptions{})
	c := dial(t, l, "svc")
	expect(t, l, EventConnection)
	half := AppendFrame(nil, []byte("0123456789"))[:HeaderSize+3]
	if _, err := c.NetConn().Write(half); err != nil {
		t.Fatal(err)
	}
	c.Close()
	ev := expect(t, l, EventError)
	if !errors.Is(ev.Err, ErrBadData) {
		t.Fatalf("error event: %v, want ErrBadData", ev.Err)
	}
	ev = expect(t, l, EventDisconnection)
	if !errors.Is(ev.Err, ErrBadData) {
		t.Fatalf("disconnection: %v, want ErrBadData", ev.Err)
	}
}

func TestServiceTooLarge(t *testing.T) {
	l := newLoop(t, Options{MaxSize: 1000})
	serve(t, l, "svc", ServiceOptions{})
	good := dial(t, l, "svc")
	goodSide := expect(t, l, EventConnection).Conn
	bad := dial(t, l, "svc")
	badSide := expect(t, l, EventConnection).Conn

	if err := good.Write(make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	if ev := expect(t, l, EventMessage); ev.Conn != goodSide || len(ev.Payload) != 1000 {
		t.Fatalf("limit-sized message: conn %d, %d bytes", ev.Conn.ID(), len(ev.Payload))
	}
	// A header alone announcing 2^32-1 bytes: refused on its header.
	hdr := binary.BigEndian.AppendUint32(nil, 1<<32-1)
	if _, err := bad.NetConn().Write(hdr); err != nil {
		t.Fatal(err)
	}
	ev := expect(t, l, EventError)
	if ev.Conn != badSide || !errors.Is(ev.Err, ErrTooLarge) {
		t.Fatalf("error event on %d: %v, want ErrTooLarge on %d", ev.Conn.ID(), ev.Err, badSide.ID())
	}
	if ev = expect(t, l, EventDisconnection); ev.Conn != badSide || !errors.Is(ev.Err, ErrTooLarge) {
		t.Fatalf("disconnection of %d: %v", ev.Conn.ID(), ev.Err)
	}
	// The client learns its connection is gone.
	bad.NetConn().SetReadDeadline(timeout())
	if _, err := bad.ReadMessage(); err == nil {
		t.Fatal("the refused client still reads")
	}
	// The service keeps serving the others, old and new.
	good.Write([]byte("after"))
	if ev := expect(t, l, EventMessage); ev.Conn != goodSide || string(ev.Payload) != "after" {
		t.Fatalf("got %q from %d", ev.Payload, ev.Conn.ID())
	}
	third := dial(t, l, "svc")
	expect(t, l, EventConnection)
	third.Write(make([]byte, 1001))
	if ev := expect(t, l, EventError); !errors.Is(ev.Err, ErrTooLarge) {
		t.Fatalf("limit+1: %v", ev.Err)
	}
}

func TestServiceMaxClients(t *testing.T) {
	l := newLoop(t, Options{})
	serve(t, l, "svc", ServiceOptions{MaxClients: 2})
	c1 := dial(t, l, "svc")
	expect(t, l, EventConnection)
	dial(t, l, "svc")
	expect(t, l, EventConnection)
	over := dial(t, l, "svc")
	ev := expect(t, l, EventError)
	if !errors.Is(ev.Err, ErrRefused) || ev.Conn == nil {
		t.Fatalf("third client: %v, want ErrRefused", ev.Err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if _, err := over.Request(ctx, []byte("let me in")); err == nil || errors.Is(err, ErrTimeout) {
		t.Fatalf("the client over the bound: %v, want it closed", err)
	}
	// A place frees up when a client leaves.
	c1.Close()
	expect(t, l, EventDisconnection)
	c4 := dial(t, l, "svc")
	expect(t, l, EventConnection)
	c4.Write([]byte("in"))
	if ev := expect(t, l, EventMessage); string(ev.Payload) != "in" {
		t.Fatalf("got %q", ev.Payload)
	}
}

func TestServiceAllowRefuses(t *testing.T) {
	l := newLoop(t, Options{})
	s := serve(t, l, "svc", ServiceOptions{Allow: &Allow{UIDs: []int{os.Getuid() + 4242}}})
	// Dial reads the allow list the service publishes and tells a
	// refusal at once, after connecting, so that the service sees it.
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if _, err := Dial(ctx, "svc", DialOptions{RunDir: l.RunDir()}); !errors.Is(err, ErrPermission) {
		t.Fatalf("refused client's dial: got %v, want ErrPermission", err)
	}
	ev := expect(t, l, EventError)
	if !errors.Is(ev.Err, ErrPermission) {
		t.Fatalf("service side: %v, want ErrPermission", ev.Err)
	}
	if ev.Conn == nil || ev.Conn.Peer().PID != os.Getpid() {
		t.Fatal("the error event does not tell who was refused")
	}
	if !strings.Contains(ev.Err.Error(), fmt.Sprint(os.Getuid())) {
		t.Fatalf("the error does not name the uid: %v", ev.Err)
	}
	// A client that does not look is refused by the service, gets no
	// reply, and is not a connection: no disconnection follows.
	nc, err := net.Dial("unix", s.Path())
	if err != nil {
		t.Fatal(err)
	}
	c := NewConn(nc, 0)
	defer c.Close()
	if p, err := c.Request(ctx, []byte("hello")); err == nil {
		t.Fatalf("a refused client got %q", p)
	}
	if ev := next(t, l); ev.Type != EventError || !errors.Is(ev.Err, ErrPermission) {
		t.Fatalf("got %v (%v) after a refusal, want the next refusal", ev.Type, ev.Err)
	}
}

func TestServiceAllowAccepts(t *testing.T) {
	l := newLoop(t, Options{})
	serve(t, l, "svc", ServiceOptions{Allow: &Allow{UIDs: []int{4242}, GIDs: []int{os.Getgid()}}})
	dial(t, l, "svc")
	expect(t, l, EventConnection)
}

func TestServiceInvalidName(t *testing.T) {
	l := newLoop(t, Options{})
	if _, err := l.Listen("a/b", ServiceOptions{}); err == nil {
		t.Fatal("a name with a slash was accepted")
	}
}

func TestServiceUnsafeRunDir(t *testing.T) {
	base := runDir(t)
	os.Mkdir(filepath.Join(base, "real"), 0o700)
	link := filepath.Join(base, "link")
	os.Symlink(filepath.Join(base, "real"), link)
	if _, err := newLoop(t, Options{RunDir: link}).Listen("svc", ServiceOptions{}); !errors.Is(err, ErrUnsafeRunDir) {
		t.Fatalf("got %v, want ErrUnsafeRunDir", err)
	}
}

func TestServiceBroadcast(t *testing.T) {
	l := newLoop(t, Options{})
	s1 := serve(t, l, "one", ServiceOptions{})
	serve(t, l, "two", ServiceOptions{})
	a := dial(t, l, "one")
	expect(t, l, EventConnection)
	b := dial(t, l, "one")
	expect(t, l, EventConnection)
	other := dial(t, l, "two")
	expect(t, l, EventConnection)
	if n := l.Broadcast(s1, []byte("news")); n != 2 {
		t.Fatalf("reached %d, want 2", n)
	}
	for _, c := range []*Conn{a, b} {
		c.NetConn().SetReadDeadline(timeout())
		if p, err := c.ReadMessage(); err != nil || string(p) != "news" {
			t.Fatalf("got %q, %v", p, err)
		}
	}
	if n := l.Broadcast(nil, []byte("all")); n != 3 {
		t.Fatalf("reached %d, want 3", n)
	}
	other.NetConn().SetReadDeadline(timeout())
	if p, err := other.ReadMessage(); err != nil || string(p) != "all" {
		t.Fatalf("got %q, %v", p, err)
	}
}

func TestServiceRefusedPeerNotPermissionIsRefused(t *testing.T) {
	// Errors the service reports for a peer over MaxClients must not look
	// like a UID/GID refusal.
	l := newLoop(t, Options{})
	serve(t, l, "svc", ServiceOptions{MaxClients: 1})
	dial(t, l, "svc")
	expect(t, l, EventConnection)
	c := dial(t, l, "svc")
	if ev := expect(t, l, EventError); errors.Is(ev.Err, ErrPermission) {
		t.Fatalf("client bound reported as %v", ev.Err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if _, err := c.Request(ctx, []byte("x")); errors.Is(err, ErrPermission) {
		t.Fatalf("client over the bound told %v", err)
	}
}

// TestServiceCloseReadsUnread: a service that closes a client with bytes
// of it still unread gives the client its replies, then a plain end of
// stream, not the reset a refused client gets.
func TestServiceCloseReadsUnread(t *testing.T) {
	l := newLoop(t, Options{})
	serve(t, l, "svc", ServiceOptions{})
	c := dial(t, l, "svc")
	sc := expect(t, l, EventConnection).Conn
	if err := c.Write([]byte("never read")); err != nil {
		t.Fatal(err)
	}
	if err := sc.Write([]byte("reply")); err != nil {
		t.Fatal(err)
	}
	sc.Close()
	c.NetConn().SetReadDeadline(timeout())
	if p, err := c.ReadMessage(); err != nil || string(p) != "reply" {
		t.Fatalf("got %q, %v; want the reply", p, err)
	}
	if _, err := c.ReadMessage(); err != io.EOF {
		t.Fatalf("after the reply: %v, want io.EOF", err)
	}
}

// standIn moves the socket at path aside as a tap does (to .NAME.tapped)
// and listens in its place; it returns the stand-in's listener.
func standIn(t *testing.T, path string) *net.UnixListener {
	t.Helper()
	if err := os.Link(path, tappedPath(path)); err != nil {
		t.Fatal(err)
	}
	tmp := path + ".tmp"
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	t.Cleanup(func() { ln.Close() })
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	return ln
}

// TestServiceCloseKeepsOthersSocket: a service whose name has come to
// name another socket (a tap's) leaves it at Close, and a new service of
// the name takes it from a tap whose service is gone.
func TestServiceCloseKeepsOthersSocket(t *testing.T) {
	l := newLoop(t, Options{})
	s := serve(t, l, "svc", ServiceOptions{})
	standIn(t, s.Path())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !live(s.Path()) {
		t.Fatal("the service's Close removed the socket that stood in for it")
	}
	s2 := serve(t, newLoop(t, Options{RunDir: l.RunDir()}), "svc", ServiceOptions{})
	id, _ := idAt(s2.Path())
	if id != s2.file {
		t.Fatal("the new service does not hold the name")
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(s2.Path()); !os.IsNotExist(err) {
		t.Fatalf("the new service's socket is still there: %v", err)
	}
}

// TestServiceRefusesTapOfLiveService: a stand-in for a service that still
// runs is a live name like any other.
func TestServiceRefusesTapOfLiveService(t *testing.T) {
	dir := runDir(t)
	path := filepath.Join(dir, "svc")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	defer ln.Close()
	standIn(t, path)
	l := NewLoop(Options{RunDir: dir})
	defer l.Close()
	if _, err := l.Listen("svc", ServiceOptions{}); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("Listen under a tap of a live service: %v, want ErrAlreadyRunning", err)
	}
}

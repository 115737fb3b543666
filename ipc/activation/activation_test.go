package activation

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// unixSocket is a passed socket listening at path, named name.
func unixSocket(t *testing.T, path, name string) *Socket {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &Socket{FD: 3, Name: name, Listener: ln}
}

// TestPick: the socket named after the service, or an unnamed one at its
// path, or the only unnamed one elsewhere; never another service's.
func TestPick(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	os.Mkdir(run, 0o700)
	path := filepath.Join(run, "pong")
	other := unixSocket(t, filepath.Join(run, "other"), "")
	named := unixSocket(t, filepath.Join(dir, "x"), "pong.socket")
	atPath := unixSocket(t, path, "")
	elsewhere := unixSocket(t, filepath.Join(dir, "y"), "")
	cases := []struct {
		free []*Socket
		want *Socket
		err  string
	}{
		{[]*Socket{other, named}, named, ""},
		{[]*Socket{other, atPath}, atPath, ""},
		{[]*Socket{elsewhere}, elsewhere, ""},
		{[]*Socket{other}, nil, "that socket is service other's"},
		{[]*Socket{other, elsewhere}, nil, "none of them for service pong"},
		{[]*Socket{unixSocket(t, filepath.Join(run, "q"), "q")}, nil, `named "q"`},
	}
	for i, c := range cases {
		got, err := pick(c.free, "pong", path)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("case %d: err = %v, want %q", i, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("case %d: got %v, %v", i, got, err)
		}
	}
}

// TestNotify sends the states as one datagram, as systemd reads them,
// and removes NOTIFY_SOCKET from the environment.
func TestNotify(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	notifyOnce = sync.Once{}
	t.Setenv("NOTIFY_SOCKET", path)
	if err := Notify(Ready, "STATUS=up"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 256)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "READY=1\nSTATUS=up\n" {
		t.Fatalf("datagram %q, %v", buf[:n], err)
	}
	if v, ok := os.LookupEnv("NOTIFY_SOCKET"); ok {
		t.Fatalf("NOTIFY_SOCKET still set to %q", v)
	}
	if !Notifying() {
		t.Fatal("Notifying() = false")
	}
}

// TestWriteReady writes one newline and closes the fd, so that the
// reader sees the line then the end.
func TestWriteReady(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fd, err := dupFD(w)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckReadyFD(fd); err != nil {
		t.Fatal(err)
	}
	if err := WriteReady(fd); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 8)
	n, _ := r.Read(b)
	if string(b[:n]) != "\n" {
		t.Fatalf("read %q", b[:n])
	}
	if n, err := r.Read(b); n != 0 || err == nil {
		t.Fatalf("fd still open: %d, %v", n, err)
	}
	if err := CheckReadyFD(fd); err == nil {
		t.Fatal("CheckReadyFD of a closed fd passed")
	}
}

// TestSockets passes a listening socket to a process as systemd does
// (fd 3, LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES) and checks that the
// process finds it, takes it out of its environment and accepts on it.
func TestSockets(t *testing.T) {
	if os.Getenv("ACTIVATION_HELPER") == "1" {
		socketsHelper()
		return
	}
	path := filepath.Join(t.TempDir(), "pong")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := ln.File()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ exec "$@"`, "sh", os.Args[0], "-test.run=^TestSockets$")
	cmd.Env = append(os.Environ(), "ACTIVATION_HELPER=1", "LISTEN_FDS=1", "LISTEN_FDNAMES=pong", "HELPER_PATH="+path)
	cmd.ExtraFiles = []*os.File{f}
	out, err := cmd.CombinedOutput()
	f.Close()
	if err != nil || !strings.Contains(string(out), "accepted") {
		t.Fatalf("helper: %v\n%s", err, out)
	}
}

// socketsHelper is the activated process of TestSockets.
func socketsHelper() {
	path := os.Getenv("HELPER_PATH")
	s, err := ForService("pong", path)
	if err != nil {
		println("ForService:", err.Error())
		os.Exit(1)
	}
	if os.Getenv("LISTEN_FDS") != "" || os.Getenv("LISTEN_PID") != "" {
		println("the variables are still set")
		os.Exit(1)
	}
	go func() {
		c, err := net.Dial("unix", path)
		if err == nil {
			c.Close()
		}
	}()
	c, err := s.Listener.Accept()
	if err != nil {
		println("Accept:", err.Error())
		os.Exit(1)
	}
	c.Close()
	println("accepted")
}

// dupFD returns a descriptor of its own for f.
func dupFD(f *os.File) (int, error) {
	return unix.Dup(int(f.Fd()))
}

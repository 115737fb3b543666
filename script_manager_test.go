package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdActivate starts a process with a listening socket passed the way
// systemd passes one: as fd 3, with LISTEN_FDS=1, LISTEN_PID its own pid
// (set by the shell it starts as, which then execs the command) and
// LISTEN_FDNAMES when -fdname is given. The script holds the socket
// until it ends, as a service manager does. A socket tcp:HOST:PORT
// listens on TCP instead, and the port it got is written to NAME.port.
func cmdActivate(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: activate NAME [-fdname N] PATH|NAME|tcp:HOST:PORT CMD [ARG...]")
	}
	name, args := args[0], args[1:]
	fdname := ""
	if args[0] == "-fdname" && len(args) > 3 {
		fdname, args = args[1], args[2:]
	}
	l, f := activationSocket(ts, name, args[0])
	ts.Defer(func() { l.Close(); f.Close() })
	cmd := exec.Command("/bin/sh", append([]string{"-c", `LISTEN_PID=$$ exec "$@"`, "sh"}, args[1:]...)...)
	cmd.ExtraFiles = []*os.File{f}
	cmd.Env = []string{"LISTEN_FDS=1"}
	if fdname != "" {
		cmd.Env = append(cmd.Env, "LISTEN_FDNAMES="+fdname)
	}
	startProc(ts, name, cmd)
}

// activationSocket listens where cmdActivate's argument says and returns
// the listener and its file.
func activationSocket(ts *testscript.TestScript, name, where string) (net.Listener, *os.File) {
	if addr, ok := strings.CutPrefix(where, "tcp:"); ok {
		l, err := net.Listen("tcp", addr)
		ts.Check(err)
		port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
		ts.Check(os.WriteFile(ts.MkAbs(name+".port"), []byte(port+"\n"), 0o644))
		f, err := l.(*net.TCPListener).File()
		ts.Check(err)
		return l, f
	}
	l, err := net.Listen("unix", socketPath(ts, where))
	ts.Check(err)
	ul := l.(*net.UnixListener)
	ul.SetUnlinkOnClose(false)
	f, err := ul.File()
	ts.Check(err)
	return l, f
}

// cmdNotifysock makes NOTIFY_SOCKET a datagram socket for the script's
// processes, and appends each datagram received there to FILE, as
// systemd would read them.
func cmdNotifysock(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: notifysock FILE")
	}
	dir, err := os.MkdirTemp("/tmp", "in")
	ts.Check(err)
	path := filepath.Join(dir, "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	ts.Check(err)
	out, err := os.Create(ts.MkAbs(args[0]))
	ts.Check(err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			msg := string(buf[:n])
			if !strings.HasSuffix(msg, "\n") {
				msg += "\n"
			}
			out.WriteString(msg)
		}
	}()
	ts.Defer(func() {
		c.Close()
		<-done
		out.Close()
		os.RemoveAll(dir)
	})
	ts.Setenv("NOTIFY_SOCKET", path)
}

package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// defaultWait bounds the waiting commands when a script gives no timeout:
// long, since a loaded machine running the scripts under -race can stall
// a process for seconds, and a wait that succeeds costs no more for it.
const defaultWait = 30 * time.Second

// scriptCmds are the commands testscripts/*.txtar may use besides the
// standard ones. They wait on readiness, never on a fixed sleep:
//
//	waitfor PATH|NAME [TIMEOUT]   a socket (NAME: in $IPC_RUNDIR) accepts connections
//	waitgone PATH|NAME [TIMEOUT]  the socket file is removed
//	waitline FILE REGEXP [TIMEOUT] FILE has a line matching REGEXP
//	start NAME CMD [ARG...]       run CMD in the background, stdout to NAME.out,
//	                              stderr to NAME.err, stdin from feed
//	feed NAME TEXT...             write TEXT and a newline to NAME's stdin
//	closein NAME                  close NAME's stdin
//	signal NAME [SIG]             send SIG (TERM, INT, HUP, KILL, STOP, CONT; default
//	                              TERM) to NAME
//	waitexit NAME [TIMEOUT]       wait for NAME to exit with status 0 (with !,
//	                              another status); its output becomes stdout and stderr
//	mksock PATH|NAME [stale]      listen on a Unix socket until the script ends
//	                              (stale: close it at once, leaving the file)
//	mksock PATH|NAME close [DUR]  accept every client and close it at once, or
//	                              after DUR, having read nothing
//	activate NAME [-fdname N] PATH|NAME|tcp:HOST:PORT CMD [ARG...]
//	                              start CMD with a socket listening at PATH passed
//	                              as systemd does (fd 3, LISTEN_FDS, LISTEN_PID)
//	notifysock FILE               set NOTIFY_SOCKET to a datagram socket whose
//	                              messages are appended to FILE
//	gencert DIR                   make a CA and server and client certificates
//	                              for 127.0.0.1 in DIR (see script_net_test.go)
//	wsclient [-n N] URL FILE MSG...
//	                              send MSGs over a WebSocket, write N replies to FILE
//	portfree PORT [TIMEOUT]       wait until nothing listens on TCP port PORT
//	startline NAME FILE           start the one command line in FILE as start
//	                              does, run by sh as it is written (for the
//	                              examples of the docs, which must work verbatim)
//	natscluster N                 run N nats-server processes joined by routes;
//	                              NATS_URL names them all, NATS_URL1... each one
//	natskill I [restart]          SIGKILL server I of the cluster, or start it
//	                              again on its port
//	natscli                       put the nats command-line client on PATH
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"waitfor":   cmdWaitfor,
	"waitgone":  cmdWaitgone,
	"waitline":  cmdWaitline,
	"start":     cmdStart,
	"feed":      cmdFeed,
	"type":      cmdType,
	"closein":   cmdClosein,
	"signal":    cmdSignal,
	"waitexit":  cmdWaitexit,
	"mksock":    cmdMksock,
	"startline": cmdStartline,
	// in script_manager_test.go
	"activate":   cmdActivate,
	"notifysock": cmdNotifysock,
	// in script_net_test.go
	"gencert":  cmdGencert,
	"wsclient": cmdWsclient,
	"portfree": cmdPortfree,
	// in script_nats_test.go
	"natscluster": cmdNatscluster,
	"natskill":    cmdNatskill,
	"natscli":     cmdNatscli,
}

// poll calls ready until it returns true or timeout passes.
func poll(timeout time.Duration, ready func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if ready() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitArgs checks that args holds n arguments and an optional timeout.
func waitArgs(ts *testscript.TestScript, args []string, n int, usage string) time.Duration {
	if len(args) != n && len(args) != n+1 {
		ts.Fatalf("usage: %s", usage)
	}
	if len(args) == n {
		return defaultWait
	}
	d, err := time.ParseDuration(args[n])
	ts.Check(err)
	return d
}

// socketPath returns arg as a path: a bare name is a service in
// $IPC_RUNDIR.
func socketPath(ts *testscript.TestScript, arg string) string {
	if !strings.Contains(arg, "/") {
		return filepath.Join(ts.Getenv("IPC_RUNDIR"), arg)
	}
	return ts.MkAbs(arg)
}

func cmdWaitfor(ts *testscript.TestScript, neg bool, args []string) {
	timeout := waitArgs(ts, args, 1, "waitfor PATH|NAME [TIMEOUT]")
	path := socketPath(ts, args[0])
	ok := poll(timeout, func() bool {
		c, err := net.DialTimeout("unix", path, time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	if ok == neg {
		ts.Fatalf("waitfor %s: accepting=%v after %v", path, ok, timeout)
	}
}

func cmdWaitgone(ts *testscript.TestScript, neg bool, args []string) {
	timeout := waitArgs(ts, args, 1, "waitgone PATH|NAME [TIMEOUT]")
	path := socketPath(ts, args[0])
	ok := poll(timeout, func() bool {
		_, err := os.Lstat(path)
		return os.IsNotExist(err)
	})
	if ok == neg {
		ts.Fatalf("waitgone %s: removed=%v after %v", path, ok, timeout)
	}
}

func cmdWaitline(ts *testscript.TestScript, neg bool, args []string) {
	timeout := waitArgs(ts, args, 2, "waitline FILE REGEXP [TIMEOUT]")
	re, err := regexp.Compile("(?m)" + args[1])
	ts.Check(err)
	path := ts.MkAbs(args[0])
	var data []byte
	ok := poll(timeout, func() bool {
		data, _ = os.ReadFile(path)
		return re.Match(data)
	})
	if ok == neg {
		ts.Fatalf("waitline %s %q: matched=%v after %v; file holds:\n%s", args[0], args[1], ok, timeout, data)
	}
}

// proc is a process run by start.
type proc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{}
	err   error // the exit error, once done is closed
}

type procsKey struct{}

// procs returns the processes of the script, by name.
func procs(ts *testscript.TestScript) map[string]*proc {
	return ts.Value(procsKey{}).(map[string]*proc)
}

func findProc(ts *testscript.TestScript, name string) *proc {
	p := procs(ts)[name]
	if p == nil {
		ts.Fatalf("no process %q: run start first", name)
	}
	return p
}

func cmdStartline(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: startline NAME FILE")
	}
	line := strings.TrimSuffix(ts.ReadFile(args[1]), "\n")
	if strings.Contains(line, "\n") {
		ts.Fatalf("%s holds more than one line", args[1])
	}
	// exec: the signals of the script reach the command, not a shell.
	cmdStart(ts, false, []string{args[0], "sh", "-c", "exec " + line})
}

func cmdStart(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: start NAME CMD [ARG...]")
	}
	name := args[0]
	if procs(ts)[name] != nil {
		ts.Fatalf("process %q already started", name)
	}
	startProc(ts, name, exec.Command(scriptLookPath(ts, args[1]), args[2:]...))
}

// scriptLookPath finds a command on the script's PATH, which commands
// such as natscli extend, rather than on the test's own.
func scriptLookPath(ts *testscript.TestScript, name string) string {
	if strings.Contains(name, "/") {
		return name
	}
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	return name
}

// startProc runs cmd in the background as process name of the script.
func startProc(ts *testscript.TestScript, name string, cmd *exec.Cmd) {
	cmd.Dir = ts.MkAbs(".")
	cmd.Env = append(scriptEnv(ts), cmd.Env...)
	out, err := os.Create(ts.MkAbs(name + ".out"))
	ts.Check(err)
	errf, err := os.Create(ts.MkAbs(name + ".err"))
	ts.Check(err)
	cmd.Stdout, cmd.Stderr = out, errf
	stdin, err := cmd.StdinPipe()
	ts.Check(err)
	ts.Check(cmd.Start())
	p := &proc{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	procs(ts)[name] = p
	go func() {
		p.err = cmd.Wait()
		out.Close()
		errf.Close()
		close(p.done)
	}()
	ts.Defer(func() {
		cmd.Process.Kill()
		<-p.done
	})
}

// envKeysKey holds the names of the variables of the script's environment
// when it started.
type envKeysKey struct{}

// scriptEnv returns the environment the script gives its commands: its
// variables from the start, and the ones ipcctl reads, as they are now.
func scriptEnv(ts *testscript.TestScript) []string {
	keys := append(ts.Value(envKeysKey{}).([]string), "IPC_RUNDIR", "RUNDIR", "IPC_NETWORK", "NO_COLOR", "NOTIFY_SOCKET",
		"NATS_URL", "NATS_URL1", "NATS_URL2", "NATS_URL3", "NATS_CREDS", "NATS_CERT", "NATS_KEY", "NATS_CA")
	var env []string
	seen := map[string]bool{}
	for _, k := range keys {
		if v := ts.Getenv(k); v != "" && !seen[k] {
			seen[k] = true
			env = append(env, k+"="+v)
		}
	}
	return env
}

func cmdFeed(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: feed NAME TEXT...")
	}
	p := findProc(ts, args[0])
	_, err := io.WriteString(p.stdin, strings.Join(args[1:], " ")+"\n")
	ts.Check(err)
}

// cmdType writes keys to a process's stdin as a user types them: no
// newline is added, and Go escapes (\r, \x03 for Ctrl-C) are the bytes
// they stand for.
func cmdType(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: type NAME KEYS")
	}
	keys, err := strconv.Unquote(`"` + args[1] + `"`)
	ts.Check(err)
	_, err = io.WriteString(findProc(ts, args[0]).stdin, keys)
	ts.Check(err)
}

func cmdClosein(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: closein NAME")
	}
	ts.Check(findProc(ts, args[0]).stdin.Close())
}

var signals = map[string]syscall.Signal{
	"TERM": syscall.SIGTERM, "INT": syscall.SIGINT, "HUP": syscall.SIGHUP, "KILL": syscall.SIGKILL,
	"STOP": syscall.SIGSTOP, "CONT": syscall.SIGCONT,
}

func cmdSignal(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: signal NAME [TERM|INT|HUP|KILL|STOP|CONT]")
	}
	sig := syscall.SIGTERM
	if len(args) == 2 {
		s, ok := signals[strings.TrimPrefix(args[1], "SIG")]
		if !ok {
			ts.Fatalf("unknown signal %q", args[1])
		}
		sig = s
	}
	ts.Check(findProc(ts, args[0]).cmd.Process.Signal(sig))
}

func cmdWaitexit(ts *testscript.TestScript, neg bool, args []string) {
	timeout := waitArgs(ts, args, 1, "waitexit NAME [TIMEOUT]")
	name := args[0]
	p := findProc(ts, name)
	select {
	case <-p.done:
	case <-time.After(timeout):
		ts.Fatalf("process %q still running after %v", name, timeout)
	}
	fmt.Fprint(ts.Stdout(), ts.ReadFile(name+".out"))
	fmt.Fprint(ts.Stderr(), ts.ReadFile(name+".err"))
	switch {
	case p.err != nil && !neg:
		ts.Fatalf("process %q: %v", name, p.err)
	case p.err == nil && neg:
		ts.Fatalf("process %q succeeded unexpectedly", name)
	}
}

func cmdMksock(ts *testscript.TestScript, neg bool, args []string) {
	usage := func() { ts.Fatalf("usage: mksock PATH|NAME [stale|close [DUR]]") }
	if neg || len(args) < 1 || len(args) > 3 {
		usage()
	}
	mode := ""
	if len(args) > 1 {
		mode = args[1]
	}
	var delay time.Duration
	switch {
	case mode == "close" && len(args) == 3:
		d, err := time.ParseDuration(args[2])
		ts.Check(err)
		delay = d
	case len(args) == 3 || mode != "" && mode != "stale" && mode != "close":
		usage()
	}
	l, err := net.Listen("unix", socketPath(ts, args[0]))
	ts.Check(err)
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	if mode == "stale" {
		l.Close()
		return
	}
	ts.Defer(func() { l.Close() })
	if mode == "close" {
		go closeEach(l, delay)
	}
}

// closeEach accepts clients of l until it is closed and closes each
// after delay, unread: a peer that accepts and hangs up.
func closeEach(l net.Listener, delay time.Duration) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		if delay == 0 {
			c.Close()
			continue
		}
		time.AfterFunc(delay, func() { c.Close() })
	}
}

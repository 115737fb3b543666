package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"github.com/ipcctl/ipcctl/format"
	"github.com/ipcctl/ipcctl/ipc"
	"golang.org/x/sys/unix"
)

// shellCommand returns /bin/sh -c line (or line's words, when they are
// all it is: see plainWords), run for client c, in a process group of its
// own so that ending it ends what it started too. Cancelling ctx sends the
// group SIGTERM, and SIGKILL exitGrace later.
func (s *server) shellCommand(ctx context.Context, line string, c *ipc.Conn, extra ...string) *exec.Cmd {
	return s.procCommand(ctx, line, false, c, extra...)
}

// shellAgain returns, when err is a failure of cmd.Start to execute line's
// words as a program that is no binary and has no #! line, the command to
// run instead: /bin/sh -c line, which runs such a file as a shell script.
func (s *server) shellAgain(ctx context.Context, err error, line string, c *ipc.Conn, extra ...string) (*exec.Cmd, bool) {
	if !errors.Is(err, syscall.ENOEXEC) {
		return nil, false
	}
	return s.procCommand(ctx, line, true, c, extra...), true
}

// procCommand is shellCommand, through the shell whatever line is when shell
// is set.
func (s *server) procCommand(ctx context.Context, line string, shell bool, c *ipc.Conn, extra ...string) *exec.Cmd {
	var cmd *exec.Cmd
	if path, words, ok := plainWords(line); ok && !shell {
		cmd = exec.CommandContext(ctx, path, words[1:]...)
		cmd.Args[0] = words[0]
	} else {
		cmd = exec.CommandContext(ctx, "/bin/sh", "-c", line)
	}
	cmd.Env = append(os.Environ(), s.clientEnv(c)...)
	cmd.Env = append(cmd.Env, extra...)
	cmd.Stderr = s.processStderr()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return signalGroup(cmd, syscall.SIGTERM) }
	cmd.WaitDelay = exitGrace
	return cmd
}

// clientEnv describes client c to a process in UCSPI style.
func (s *server) clientEnv(c *ipc.Conn) []string {
	if env := s.networkEnv(c); env != nil {
		return env
	}
	p := c.Peer()
	return []string{
		"PROTO=IPC",
		"IPCREMOTEEUID=" + strconv.Itoa(p.UID),
		"IPCREMOTEEGID=" + strconv.Itoa(p.GID),
		"IPCREMOTEPID=" + strconv.Itoa(p.PID),
		"IPCCONNNUM=" + strconv.FormatInt(s.clients.Load(), 10),
		"IPCSERVICE=" + s.cfg.name,
		"IPCLOCALPATH=" + s.svc.Path(),
		"IPCCLIENT=" + clientID(c),
	}
}

// processStderr is where processes write their stderr: serve's own stderr
// file when it has one, so that they write to it directly.
func (s *server) processStderr() io.Writer {
	if f, ok := s.cfg.g.Stderr.(*os.File); ok {
		return f
	}
	return s.stderr
}

// signalGroup sends sig to the process group of a started cmd.
func signalGroup(cmd *exec.Cmd, sig syscall.Signal) error {
	if cmd.Process == nil {
		return nil
	}
	err := unix.Kill(-cmd.Process.Pid, sig)
	if errors.Is(err, unix.ESRCH) {
		return os.ErrProcessDone
	}
	return err
}

// exitFields describes how a process that failed ended: its exit status,
// or the signal that killed it. ok is false when err says nothing of an
// exit (the process could not be started, or its output failed).
func exitFields(err error) (text string, fields []format.Field, ok bool) {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return "", nil, false
	}
	ws, isWS := ee.Sys().(syscall.WaitStatus)
	switch {
	case isWS && ws.Signaled():
		name := unix.SignalName(ws.Signal())
		return "killed by " + name, []format.Field{{Key: "signal", Value: name}}, true
	case isWS && ws.Exited():
		n := ws.ExitStatus()
		return fmt.Sprintf("exited with status %d", n), []format.Field{{Key: "status", Value: n}}, true
	}
	return ee.Error(), nil, true
}

// processFailure reports a process of client c that failed: what is the
// kind of process, err what Wait returned.
func (s *server) processFailure(c *ipc.Conn, what string, err error) {
	text, fields, ok := exitFields(err)
	var ended *endedError
	switch {
	case errors.As(err, &ended):
		text = ended.reason
	case ok:
		text = what + " " + text
	default:
		text = what + ": " + err.Error()
	}
	tellClient(c, text)
	s.report(c, text, fields...)
}

// endedError is a process that serve ended, and why.
type endedError struct {
	reason string
	err    error // what Wait returned
}

func (e *endedError) Error() string { return e.reason }
func (e *endedError) Unwrap() error { return e.err }

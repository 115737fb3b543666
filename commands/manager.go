package commands

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/ipcctl/ipcctl/ipc"
	"github.com/ipcctl/ipcctl/ipc/activation"
	"github.com/urfave/cli/v2"
)

// managerFlags are the flags of a command that a service manager runs
// (serve, switch): readiness and a pid file.
func managerFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "ready-fd", Usage: "once clients can connect, write a newline to descriptor `N` and close it (s6's notification-fd)", DefaultText: "none"},
		&cli.StringFlag{Name: "pidfile", Usage: "write the process id to `PATH` once ready (atomically), remove it on exit", TakesFile: true},
	}
}

const managerDescription = "Under a service manager: a listening socket the manager passes " +
	"(socket activation: LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES, as systemd, " +
	"systemd-socket-activate and others set them) is used instead of binding, and left in " +
	"place at exit; it must be named NAME (or NAME.socket) in LISTEN_FDNAMES, or be unnamed " +
	"and the only one, and a socket at another service's path of the run directory is " +
	"refused; for a tcp://, tls://, ws:// or http:// endpoint it is a TCP socket on the " +
	"endpoint's port, and passed sockets none of which is there are refused. Once clients can connect, ipcctl writes the pid file (--pidfile), tells " +
	"systemd READY=1 on $NOTIFY_SOCKET (Type=notify), and writes a newline to --ready-fd " +
	"(s6's notification-fd); at shutdown it sends STOPPING=1 and removes the pid file. " +
	"SIGHUP ends it as SIGTERM does. See docs/service-managers.md."

// manager is what ipcctl tells a service manager.
type manager struct {
	readyFD int // -1: none
	pidfile string
	wrote   bool // the pid file is ours to remove
}

// managerOf reads the manager flags, checking them at once so that a
// wrong --ready-fd fails at start, not once the service is up.
func managerOf(c *cli.Context) (*manager, error) {
	m := &manager{readyFD: -1, pidfile: c.String("pidfile")}
	if c.IsSet("ready-fd") {
		m.readyFD = c.Int("ready-fd")
		if err := activation.CheckReadyFD(m.readyFD); err != nil {
			return nil, UsageErrorf("%v", err)
		}
	}
	if c.IsSet("pidfile") && m.pidfile == "" {
		return nil, UsageErrorf("--pidfile needs a path")
	}
	catchSIGPIPE()
	return m, nil
}

// catchSIGPIPE makes a write to a closed stdout fail with EPIPE instead
// of killing ipcctl (Go's default for fds 1 and 2), so that a service
// whose reader went away still removes its socket and its pid file.
func catchSIGPIPE() {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
}

// ready tells the service manager the service accepts clients: the pid
// file, then NOTIFY_SOCKET, then the ready fd. status describes the
// service for systemctl status.
func (m *manager) ready(status string) error {
	if m.pidfile != "" {
		if err := writePidfile(m.pidfile); err != nil {
			return err
		}
		m.wrote = true
	}
	if err := activation.Notify(activation.Ready, "STATUS="+status, "MAINPID="+strconv.Itoa(os.Getpid())); err != nil {
		return err
	}
	if m.readyFD >= 0 {
		fd := m.readyFD
		m.readyFD = -1
		return activation.WriteReady(fd)
	}
	return nil
}

// stopping tells the service manager that the service is shutting down.
// An error is of no use then: the manager sees the exit anyway.
func (m *manager) stopping() {
	activation.Notify(activation.Stopping)
}

// exit removes the pid file, if it is still this process's.
func (m *manager) exit() {
	if !m.wrote {
		return
	}
	if b, err := os.ReadFile(m.pidfile); err == nil && string(b) == pidLine() {
		os.Remove(m.pidfile)
	}
}

func pidLine() string { return strconv.Itoa(os.Getpid()) + "\n" }

// writePidfile writes the pid to path in one step: a temporary file in the
// same directory, renamed over path, so that a reader never sees it half
// written.
func writePidfile(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("cannot write --pidfile %s: %w", path, ipc.WrapPermission(err))
	}
	_, err = tmp.WriteString(pidLine())
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("cannot write --pidfile %s: %w", path, ipc.WrapPermission(err))
	}
	return nil
}

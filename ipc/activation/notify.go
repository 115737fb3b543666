package activation

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// The states a service tells systemd (sd_notify's READY=1, STOPPING=1).
const (
	Ready    = "READY=1"
	Stopping = "STOPPING=1"
)

var (
	notifyOnce sync.Once
	notifyAddr string
)

// notifySocket returns $NOTIFY_SOCKET as the first call found it, and
// removes it from the environment, so that the processes the service runs
// do not speak for it.
func notifySocket() string {
	notifyOnce.Do(func() {
		notifyAddr = os.Getenv("NOTIFY_SOCKET")
		os.Unsetenv("NOTIFY_SOCKET")
	})
	return notifyAddr
}

// Notifying reports whether a service manager waits for notifications
// (NOTIFY_SOCKET is set).
func Notifying() bool { return notifySocket() != "" }

// Notify sends state, lines such as Ready or "STATUS=...", to the service
// manager as one datagram on $NOTIFY_SOCKET (a socket path, or "@NAME" for
// an abstract socket), as sd_notify does. It does nothing when
// NOTIFY_SOCKET is unset.
func Notify(state ...string) error {
	addr := notifySocket()
	if addr == "" {
		return nil
	}
	if !strings.HasPrefix(addr, "/") && !strings.HasPrefix(addr, "@") {
		return fmt.Errorf("NOTIFY_SOCKET %q: want a socket path or @NAME", addr)
	}
	// Go reads a leading "@" as an abstract address, as systemd writes it.
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("cannot notify the service manager at NOTIFY_SOCKET %s: %v", addr, err)
	}
	defer c.Close()
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(strings.Join(state, "\n") + "\n")); err != nil {
		return fmt.Errorf("cannot notify the service manager at NOTIFY_SOCKET %s: %v", addr, err)
	}
	return nil
}

// WriteReady tells a supervisor that reads fd (s6's notification-fd) that
// the service is ready: it writes a newline to fd and closes it.
func WriteReady(fd int) error {
	f := os.NewFile(uintptr(fd), fmt.Sprintf("ready fd %d", fd))
	if f == nil {
		return fmt.Errorf("--ready-fd %d: not a descriptor", fd)
	}
	defer f.Close()
	if _, err := f.Write([]byte("\n")); err != nil {
		if errors.Is(err, unix.EBADF) {
			return fmt.Errorf("--ready-fd %d: not open (is notification-fd set? is fd %d passed?)", fd, fd)
		}
		return fmt.Errorf("cannot write to --ready-fd %d: %v", fd, err)
	}
	return nil
}

// CheckReadyFD reports whether fd is open for writing, so that a service
// refuses a wrong --ready-fd at start rather than once it is ready.
func CheckReadyFD(fd int) error {
	if fd < 0 {
		return fmt.Errorf("--ready-fd %d: want a descriptor number", fd)
	}
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return fmt.Errorf("--ready-fd %d: not open (is notification-fd set? is fd %d passed?)", fd, fd)
	}
	if fl&unix.O_ACCMODE == unix.O_RDONLY {
		return fmt.Errorf("--ready-fd %d: open for reading only", fd)
	}
	unix.CloseOnExec(fd)
	return nil
}

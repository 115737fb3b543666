package activation

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// firstFD is the first socket a service manager passes (SD_LISTEN_FDS_START).
const firstFD = 3

// ErrNotPassed means no socket passed by the service manager fits.
var ErrNotPassed = errors.New("no matching socket passed by the service manager")

// Socket is one listening socket passed by the service manager.
type Socket struct {
	// FD is the descriptor it was passed as (3, 4, ...).
	FD int
	// Name is its name in LISTEN_FDNAMES ("" when it has none).
	Name string
	// Listener is the socket, ready to accept.
	Listener net.Listener
	taken    bool
}

// Path is the socket's Unix path ("@NAME" when abstract), or "".
func (s *Socket) Path() string {
	if a, ok := s.Listener.Addr().(*net.UnixAddr); ok {
		return a.Name
	}
	return ""
}

// describe names the socket in errors.
func (s *Socket) describe() string {
	d := fmt.Sprintf("fd %d", s.FD)
	if s.Name != "" {
		d += fmt.Sprintf(" (named %q)", s.Name)
	}
	if addr := s.Listener.Addr().String(); addr != "" {
		d += " at " + addr
	}
	return d
}

var (
	once    sync.Once
	passed  []*Socket
	passErr error
	mu      sync.Mutex
)

// Sockets returns the listening sockets the service manager passed to
// this process: none when LISTEN_FDS is unset or LISTEN_PID is not this
// process's pid (a parent's variables, inherited), as sd_listen_fds does. The first call takes them:
// it removes LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES from the
// environment and marks the descriptors close-on-exec, so that the
// processes the service runs inherit neither; later calls return the same
// sockets. A passed descriptor that is not a listening stream socket is an
// error.
func Sockets() ([]*Socket, error) {
	once.Do(func() { passed, passErr = inherit() })
	return passed, passErr
}

// inherit reads the variables and takes the descriptors they describe.
func inherit() ([]*Socket, error) {
	fds, pid := os.Getenv("LISTEN_FDS"), os.Getenv("LISTEN_PID")
	names := os.Getenv("LISTEN_FDNAMES")
	os.Unsetenv("LISTEN_FDS")
	os.Unsetenv("LISTEN_PID")
	os.Unsetenv("LISTEN_FDNAMES")
	if fds == "" {
		return nil, nil
	}
	if pid != strconv.Itoa(os.Getpid()) {
		return nil, nil // meant for another process, as sd_listen_fds says
	}
	n, err := strconv.Atoi(fds)
	if err != nil || n < 0 || n > 1024 {
		return nil, fmt.Errorf("bad LISTEN_FDS %q: want a number of descriptors", fds)
	}
	var nameList []string
	if names != "" {
		nameList = strings.Split(names, ":")
	}
	var socks []*Socket
	for i := 0; i < n; i++ {
		s, err := take(firstFD+i, nameAt(nameList, i))
		if err != nil {
			for _, s := range socks {
				s.Listener.Close()
			}
			return nil, err
		}
		socks = append(socks, s)
	}
	return socks, nil
}

// nameAt returns the i-th name; systemd's "unknown" is no name.
func nameAt(names []string, i int) string {
	if i >= len(names) || names[i] == "unknown" {
		return ""
	}
	return names[i]
}

// take makes a Socket of the listening stream socket at fd.
func take(fd int, name string) (*Socket, error) {
	unix.CloseOnExec(fd)
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return nil, fmt.Errorf("passed fd %d is not a socket: %v", fd, err)
	}
	accepting, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
	if typ != unix.SOCK_STREAM || err != nil || accepting == 0 {
		return nil, fmt.Errorf("passed fd %d is not a listening stream socket (ListenStream= in a .socket unit, with Accept=no)", fd)
	}
	f := os.NewFile(uintptr(fd), fmt.Sprintf("LISTEN_FDS %d", fd))
	ln, err := net.FileListener(f)
	f.Close() // FileListener has its own copy
	if err != nil {
		return nil, fmt.Errorf("passed fd %d: %v", fd, err)
	}
	return &Socket{FD: fd, Name: name, Listener: ln}, nil
}

// ForService returns the passed socket for service name, whose socket
// path in the run directory is path, or ErrNotPassed when none was passed.
// A socket fits when its name (LISTEN_FDNAMES) is name or name.socket
// (systemd's default for a unit name.socket), or it has no name and is a
// Unix socket at path, or it is the only one passed, is unnamed and is not
// in the run directory. A passed socket whose name or path names another
// service is refused with an error: serving it as name would answer the
// clients of another service.
func ForService(name, path string) (*Socket, error) {
	socks, err := Sockets()
	if err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	var free []*Socket
	for _, s := range socks {
		if !s.taken {
			free = append(free, s)
		}
	}
	if len(free) == 0 {
		return nil, ErrNotPassed
	}
	s, err := pick(free, name, path)
	if err != nil {
		return nil, err
	}
	s.taken = true
	return s, nil
}

// pick chooses the socket for service name among the free ones.
func pick(free []*Socket, name, path string) (*Socket, error) {
	for _, s := range free {
		if s.Name == name || s.Name == name+".socket" {
			return s, checkPath(s, name, path)
		}
	}
	for _, s := range free {
		if s.Name == "" && s.Path() == path {
			return s, nil
		}
	}
	if len(free) == 1 && free[0].Name == "" {
		s := free[0]
		return s, checkPath(s, name, path)
	}
	var list []string
	for _, s := range free {
		list = append(list, s.describe())
	}
	return nil, fmt.Errorf("the service manager passed %s, none of them for service %s: name the socket %q (FileDescriptorName= in the .socket unit) or listen at %s",
		strings.Join(list, ", "), name, name, path)
}

// checkPath refuses a socket in the run directory of path that is not at
// path: it is another service's.
func checkPath(s *Socket, name, path string) error {
	p := s.Path()
	if _, ok := s.Listener.(*net.UnixListener); !ok {
		return fmt.Errorf("the service manager passed %s for service %s, which is not a Unix socket", s.describe(), name)
	}
	if p == "" || p == path || strings.HasPrefix(p, "@") || filepath.Dir(p) != filepath.Dir(path) {
		return nil
	}
	return fmt.Errorf("the service manager passed %s for service %s, but that socket is service %s's; listen at %s",
		s.describe(), name, filepath.Base(p), path)
}

// ForAddr returns the passed socket that listens on TCP address hostport
// (a host left empty, 0.0.0.0 or :: matches any address of the port), or
// ErrNotPassed when none was passed. Passed sockets of which none listens
// there are an error: the service manager meant them for this process,
// and binding another socket would leave its clients unanswered.
func ForAddr(hostport string) (*Socket, error) {
	socks, err := Sockets()
	if err != nil {
		return nil, err
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	for _, s := range socks {
		a, ok := s.Listener.Addr().(*net.TCPAddr)
		if s.taken || !ok || strconv.Itoa(a.Port) != port {
			continue
		}
		if ip := net.ParseIP(host); host == "" || ip != nil && (ip.IsUnspecified() || ip.Equal(a.IP)) || ip == nil {
			s.taken = true
			return s, nil
		}
	}
	var list []string
	for _, s := range socks {
		if !s.taken {
			list = append(list, s.describe())
		}
	}
	if len(list) == 0 {
		return nil, ErrNotPassed
	}
	return nil, fmt.Errorf("the service manager passed %s, none of them listening on %s: pass a socket on that address (ListenStream= in the .socket unit) or listen where it is",
		strings.Join(list, ", "), hostport)
}

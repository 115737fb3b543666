package ipc

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ServiceOptions set up one service of a Loop.
type ServiceOptions struct {
	// Allow lists the users and groups accepted; nil accepts everyone.
	// A refused peer is closed at once and reported as an EventError
	// wrapping ErrPermission.
	Allow *Allow
	// MaxClients bounds the clients connected at once (0: no bound). A
	// client over it is closed at once and reported as an EventError.
	MaxClients int
	// FrameTimeout bounds how long a client may take to send a frame,
	// from its first byte to its last (DefaultFrameTimeout when 0;
	// negative: no bound). A client that began a frame and did not
	// finish it in time is closed and reported as an EventError wrapping
	// ErrTimeout, so that a client cannot hold a place and a frame's
	// memory by sending slowly. Bytes the loop has not read yet (its
	// caller is behind) are not held against the client.
	FrameTimeout time.Duration
	// IdleTimeout closes a client with which nothing was exchanged, no
	// byte read from it or written to it, for that long, reported as an
	// EventError wrapping ErrTimeout (0: never).
	IdleTimeout time.Duration
	// MaxBuffered bounds the bytes held for the clients' partial frames,
	// all clients together; a frame counts its whole announced size from
	// its length prefix on, until it is complete and handed out. When 0
	// it is DefaultMaxBuffered, or 8 frames of the loop's MaxSize if that
	// is more; negative: no bound. The client whose frame would pass it
	// is closed and reported as an EventError wrapping ErrOverloaded; a
	// frame alone always fits.
	MaxBuffered int64
}

// Service is a listening socket RUNDIR/NAME, as LibIPC's ipc_service_init
// makes it, held with LibIPC's lock file RUNDIR/NAME.lock.
type Service struct {
	name string
	path string
	ln   net.Listener
	file fileID // the socket made, removed at Close only if path names it
	// allowFile is the allow list published beside the socket, if any.
	allowFile fileID
	lock      *os.File // nil for a listener made elsewhere that has no lock
	opts      ServiceOptions
	loop      *Loop

	budget *budget
	stop   chan struct{} // closed by Close

	mu      sync.Mutex
	clients int
	closed  bool
}

// Name returns the service's name.
func (s *Service) Name() string { return s.name }

// Path returns the service's socket path.
func (s *Service) Path() string { return s.path }

// Loop returns the loop the service belongs to.
func (s *Service) Loop() *Loop { return s.loop }

// Listen makes the loop the service name in its run directory. It fails
// with ErrAlreadyRunning when a live service holds the name, replaces a
// stale socket, and is safe against concurrent starts of the same name.
func (l *Loop) Listen(name string, opts ServiceOptions) (*Service, error) {
	if l.perr != nil {
		return nil, l.perr
	}
	if err := PrepareRunDir(l.opts.RunDir); err != nil {
		return nil, err
	}
	path, err := SocketPath(l.opts.RunDir, name)
	if err != nil {
		return nil, err
	}
	s, err := bindService(name, path, opts.Allow)
	if err != nil {
		return nil, err
	}
	return l.serve(s, opts), nil
}

// ListenPath makes the loop the service name at the socket path, an
// absolute path outside the run directory, with the safety of Listen:
// LibIPC's lock file PATH.lock, a stale socket replaced and a live one
// refused (ErrAlreadyRunning), and at Close the socket removed only if it
// is still the one it made. The socket's directory must exist and be safe
// as a run directory is (ErrUnsafeRunDir).
func (l *Loop) ListenPath(name, path string, opts ServiceOptions) (*Service, error) {
	if l.perr != nil {
		return nil, l.perr
	}
	if !filepath.IsAbs(path) {
		return nil, Errorf(ErrInvalid, "socket path %s is not absolute", path)
	}
	if len(path) > maxSocketPath {
		return nil, Errorf(ErrInvalid, "socket path %s is %d bytes, longer than the %d a Unix socket allows", path, len(path), maxSocketPath)
	}
	if err := checkSocketDir(path); err != nil {
		return nil, err
	}
	s, err := bindService(name, path, opts.Allow)
	if err != nil {
		return nil, err
	}
	return l.serve(s, opts), nil
}

// checkSocketDir refuses a socket path whose directory is missing, or
// unsafe as a run directory would be.
func checkSocketDir(path string) error {
	dir := filepath.Dir(path)
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return Errorf(ErrInvalid, "cannot listen at %s: directory %s does not exist", path, dir)
	}
	if _, err := checkRunDir(dir); err != nil {
		return fmt.Errorf("cannot listen at %s: %w", path, err)
	}
	return nil
}

// serve makes the loop accept the clients of s.
func (l *Loop) serve(s *Service, opts ServiceOptions) *Service {
	if opts.FrameTimeout == 0 {
		opts.FrameTimeout = DefaultFrameTimeout
	}
	s.opts, s.loop = opts, l
	s.budget = newBudget(opts.MaxBuffered, l.opts.MaxSize)
	l.mu.Lock()
	l.services = append(l.services, s)
	l.mu.Unlock()
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		s.accept()
	}()
	if opts.FrameTimeout > 0 || opts.IdleTimeout > 0 {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			s.sweep(opts.FrameTimeout, opts.IdleTimeout)
		}()
	}
	return s
}

// Bind becomes the service name at path outside any Loop, as a bridge
// or a tap does: it takes LibIPC's lock file, replaces a stale socket and
// refuses a live one (ErrAlreadyRunning). Path is SocketPath of name in a
// prepared run directory, or any socket path. Its clients come from
// Accept; Close ends it.
func Bind(name, path string) (*Service, error) { return bindService(name, path, nil) }

// Accept waits for the next client of a service made by Bind, with
// payloads up to max bytes. It returns ErrClosed once the service is
// closed. A Loop's services are accepted by the loop, never by Accept.
func (s *Service) Accept(max int) (*Conn, error) {
	nc, err := s.ln.Accept()
	if err != nil {
		return nil, acceptError(err)
	}
	return NewConn(nc, max), nil
}

// acceptError makes a closed listener's error ErrClosed.
func acceptError(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return ErrClosed
	}
	return err
}

// bindService takes the lock of the socket at path, publishes the allow
// list (before any client can connect) and listens there.
func bindService(name, path string, allow *Allow) (*Service, error) {
	lock, err := lockService(path)
	if err != nil {
		return nil, err
	}
	allowFile, err := publishAllow(path, allow)
	if err != nil {
		lock.Close()
		return nil, err
	}
	ln, file, err := listenSocket(path)
	if err != nil {
		removeIfSame(allowPath(path), allowFile)
		lock.Close()
		return nil, err
	}
	return &Service{name: name, path: path, ln: ln, file: file, allowFile: allowFile, lock: lock, stop: make(chan struct{})}, nil
}

// lockService takes LibIPC's lock file for the socket at path. The lock is
// held for the service's life; the file is left in place, as LibIPC does.
func lockService(path string) (*os.File, error) {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o660)
	if err != nil {
		return nil, fmt.Errorf("cannot open lock file %s.lock: %w", path, pathError(err))
	}
	err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if err == nil {
		return f, nil
	}
	f.Close()
	if errors.Is(err, unix.EWOULDBLOCK) {
		return nil, Errorf(ErrAlreadyRunning, "service %s is already running (%s.lock is held)", path, path)
	}
	return nil, fmt.Errorf("cannot lock %s.lock: %w", path, err)
}

// listenSocket listens at path, replacing a stale socket but never a live
// one, sets the socket's mode to 0660 and returns the socket's identity.
// A live tap whose service is gone is replaced too: the caller holds the
// name's lock, so the service the tap stood for has ended, and a new one
// takes the name from the tap in one rename.
func listenSocket(path string) (*net.UnixListener, fileID, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fileID{}, fmt.Errorf("cannot listen at %s: a file that is not a socket is there; remove it or use another name", path)
		}
		if live(path) {
			if tapOfGone(path) {
				return listenOver(path, 0o660)
			}
			return nil, fileID{}, Errorf(ErrAlreadyRunning, "service %s is already running", path)
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fileID{}, fmt.Errorf("cannot remove stale socket %s: %w", path, pathError(err))
		}
	}
	ln, err := listenAt(path, 0o660)
	if err != nil {
		return nil, fileID{}, err
	}
	id, _ := idAt(path)
	return ln, id, nil
}

// listenAt listens at path with the socket's mode set to perm. Closing
// the listener leaves the file: its owner removes it, only if it is still
// its own.
func listenAt(path string, perm fs.FileMode) (*net.UnixListener, error) {
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("cannot listen at %s: %w", path, pathError(err))
	}
	ln.SetUnlinkOnClose(false)
	if err := os.Chmod(path, perm); err != nil {
		ln.Close()
		return nil, fmt.Errorf("cannot set the mode of %s: %w", path, pathError(err))
	}
	return ln, nil
}

// live reports whether something accepts connections at path.
func live(path string) bool {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, fs.ErrNotExist)
	}
	c.Close()
	return true
}

// accept takes clients until the listener closes.
func (s *Service) accept() {
	l := s.loop
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if s.isClosed() {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				l.deliver(Event{Type: EventError, Service: s, Err: fmt.Errorf("accept on %s: %w", s.path, err)})
				time.Sleep(50 * time.Millisecond)
				continue
			}
			l.deliver(Event{Type: EventError, Service: s, Err: fmt.Errorf("accept on %s: %w", s.path, err)})
			return
		}
		c := NewConn(nc, l.opts.MaxSize)
		c.service, c.in.budget = s, s.budget
		if err := s.admit(c); err != nil {
			go refuse(c, errors.Is(err, ErrPermission))
			l.deliver(Event{Type: EventError, Conn: c, Service: s, Err: err})
			continue
		}
		l.adopt(c)
		l.deliver(Event{Type: EventConnection, Conn: c, Service: s}) // Wait watches c from then on
	}
}

// admit checks a new client against the allow list and the client bound.
func (s *Service) admit(c *Conn) error {
	if !s.opts.Allow.Permits(c.peer) {
		return fmt.Errorf("%w: uid %d gid %d (pid %d) is not allowed on %s",
			ErrPermission, c.peer.UID, c.peer.GID, c.peer.PID, s.name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.MaxClients > 0 && s.clients >= s.opts.MaxClients {
		return fmt.Errorf("%w: %s has its maximum of %d clients", ErrRefused, s.name, s.opts.MaxClients)
	}
	s.clients++
	return nil
}

// refuse closes a refused peer. It waits (briefly) for the peer's first
// bytes. A peer refused by the allow list (reset) is closed without reading
// them, so that it reads nothing of the service, not even an orderly end
// of stream. A peer over the client bound gets a quiet end of stream: its
// bytes are read first. Neither is how an ipcctl client tells a refusal:
// that depends on timing; it reads the allow list the service publishes
// (see allowfile.go).
func refuse(c *Conn, reset bool) {
	c.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	if sc, ok := c.nc.(syscall.Conn); ok {
		raw, err := sc.SyscallConn()
		if err != nil {
			c.Close()
			return
		}
		raw.Read(func(fd uintptr) bool {
			// Ask the fd itself: bytes that came before this Read began
			// will not wake it again.
			if !readable(int(fd)) {
				return false // wait until readable
			}
			if !reset {
				drain(int(fd))
			}
			return true
		})
	}
	c.Close()
}

// drainMax bounds what drain reads: a peer that keeps sending is not
// waited for.
const drainMax = 1 << 20

// drain reads and drops what can be read from fd without blocking, up to
// drainMax bytes.
func drain(fd int) {
	buf := make([]byte, 16<<10)
	for total := 0; total < drainMax; {
		n, err := readNow(fd, buf)
		if n <= 0 || err != nil {
			return
		}
		total += n
	}
}

// Close stops accepting, removes the socket if its name still names the
// socket this service made (a tap or a newer service may hold the name
// now) and releases the lock. Connected clients stay; Loop.Close closes
// them.
func (s *Service) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	err := s.ln.Close()
	if _, rmErr := removeIfSame(s.path, s.file); rmErr != nil && err == nil {
		err = rmErr
	}
	if s.allowFile != (fileID{}) {
		if _, rmErr := removeIfSame(allowPath(s.path), s.allowFile); rmErr != nil && err == nil {
			err = rmErr
		}
	}
	if s.lock != nil {
		s.lock.Close() // closing the file releases the flock
	}
	return err
}

// leave frees the place of a client that is gone.
func (s *Service) leave() {
	s.mu.Lock()
	s.clients--
	s.mu.Unlock()
}

func (s *Service) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

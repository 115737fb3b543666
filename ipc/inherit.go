package ipc

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
)

// ListenOn makes the loop serve ln, a listening socket made elsewhere, as
// service name: typically one a service manager passed at exec (socket
// activation, see package ipc/activation), so that the manager owns the
// socket and clients may connect before the service runs. Clients are
// accepted, checked and reported as those of Listen.
//
// When ln is a Unix socket with a path, the service holds LibIPC's lock
// file PATH.lock as Listen does, and fails with ErrAlreadyRunning when
// another process holds it; a lock file that cannot be created (a
// directory the service may not write in) is done without; with the lock
// it publishes its allow list as Listen does. Close closes ln but never
// removes its socket: it is the maker's.
func (l *Loop) ListenOn(name string, ln net.Listener, opts ServiceOptions) (*Service, error) {
	if l.perr != nil {
		return nil, l.perr
	}
	s, err := Adopt(name, ln)
	if err != nil {
		return nil, err
	}
	if s.lock != nil { // the name is this service's: publish its allow list
		if s.allowFile, err = publishAllow(s.path, opts.Allow); err != nil {
			s.Close()
			return nil, err
		}
	}
	return l.serve(s, opts), nil
}

// Adopt is Bind for a listening socket made elsewhere: the service name
// accepts its clients on ln (with Accept), holding the lock file as
// ListenOn does. Close closes ln and leaves its socket file alone.
func Adopt(name string, ln net.Listener) (*Service, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	if ul, ok := ln.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(false)
	}
	path := ListenerPath(ln)
	s := &Service{name: name, path: path, ln: ln, stop: make(chan struct{})}
	if path == "" || strings.HasPrefix(path, "@") {
		return s, nil
	}
	lock, err := lockService(path)
	switch {
	case err == nil:
		s.lock = lock
	case errors.Is(err, ErrAlreadyRunning):
		return nil, fmt.Errorf("cannot serve the socket at %s as %s: %w", path, name, err)
	case !errors.Is(err, os.ErrPermission) && !errors.Is(err, ErrPermission):
		return nil, err
	}
	return s, nil
}

// ListenerPath returns the path of a listening Unix socket ("@NAME" for an
// abstract one), or "" for another kind of listener or an unnamed socket.
func ListenerPath(ln net.Listener) string {
	a, ok := ln.Addr().(*net.UnixAddr)
	if !ok || a.Name == "" {
		return ""
	}
	return a.Name
}

// Addr is the address the service listens on.
func (s *Service) Addr() net.Addr { return s.ln.Addr() }

package ipc

import (
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// External is a file descriptor the loop watches but does not read
// (LibIPC's ipc_add_external). When it is ready, Wait yields
// EventExternal; the caller reads it, and the loop watches it again from
// the next Wait on: an fd left unread, or read only in part, is reported
// again, as LibIPC's poll loop does.
type External struct {
	f     *os.File
	fd    int
	token uint64
	loop  *Loop

	mu     sync.Mutex // orders rearm and Close
	closed bool
}

// File returns the watched file, for the caller to read.
func (x *External) File() *os.File { return x.f }

// externalEvents is how an external is watched: once per report, until
// the caller is back in Wait.
const externalEvents = unix.EPOLLIN | unix.EPOLLONESHOT

// AddExternal makes the loop watch fd. The fd is switched to non-blocking
// mode and belongs to the External from now on (Close closes it). An fd
// that cannot be polled (a regular file) is refused.
func (l *Loop) AddExternal(fd int) (*External, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, fmt.Errorf("external fd %d: %w", fd, err)
	}
	x := &External{fd: fd, token: externalBit | lastConnID.Add(1), loop: l}
	l.mu.Lock()
	l.externals[x.token] = x
	l.mu.Unlock()
	if err := l.poll.watch(unix.EPOLL_CTL_ADD, fd, x.token, externalEvents); err != nil {
		l.mu.Lock()
		delete(l.externals, x.token)
		l.mu.Unlock()
		return nil, fmt.Errorf("external fd %d cannot be watched: %w", fd, err)
	}
	x.f = os.NewFile(uintptr(fd), fmt.Sprintf("external-%d", fd))
	return x, nil
}

// rearm watches x again after it was handed out.
func (x *External) rearm() {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.closed {
		x.loop.poll.watch(unix.EPOLL_CTL_MOD, x.fd, x.token, externalEvents)
	}
}

// Close stops watching and closes the fd.
func (x *External) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return nil
	}
	x.closed = true
	l := x.loop
	l.mu.Lock()
	delete(l.externals, x.token)
	l.mu.Unlock()
	l.poll.watch(unix.EPOLL_CTL_DEL, x.fd, x.token, 0)
	return x.f.Close()
}

// readable reports whether fd has something to read (data, end of file or
// an error) right now.
func readable(fd int) bool {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(pfd, 0)
		if err == unix.EINTR {
			continue
		}
		return err != nil || n > 0 // on error, let the caller find out
	}
}

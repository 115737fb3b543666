package ipc

import (
	"fmt"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// External is a file descriptor the loop watches but does not read
// (LibIPC's ipc_add_external). When it is ready, Wait yields
// EventExternal; the caller reads it, and the loop watches it again from
// the next Wait on.
type External struct {
	f      *os.File
	loop   *Loop
	rearm  chan struct{}
	closed atomic.Bool
}

// File returns the watched file, for the caller to read.
func (x *External) File() *os.File { return x.f }

// AddExternal makes the loop watch fd. The fd is switched to non-blocking
// mode and belongs to the External from now on (Close closes it).
func (l *Loop) AddExternal(fd int) (*External, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, fmt.Errorf("external fd %d: %w", fd, err)
	}
	x := &External{f: os.NewFile(uintptr(fd), fmt.Sprintf("external-%d", fd)), loop: l, rearm: make(chan struct{}, 1)}
	raw, err := x.f.SyscallConn()
	if err != nil {
		return nil, err
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for !x.closed.Load() {
			if !waitReadable(raw) {
				if !x.closed.Load() {
					l.deliver(Event{Type: EventExternal, External: x, Err: ErrClosed})
				}
				return
			}
			l.deliver(Event{Type: EventExternal, External: x})
			select {
			case <-x.rearm:
			case <-l.done:
				return
			}
		}
	}()
	return x, nil
}

// waitReadable blocks until the fd behind raw can be read without
// blocking, reading nothing. It reports false when the fd can no longer be
// watched. The runtime's poller only reports new data (edge-triggered), so
// readiness is checked with poll(2) first: an fd the caller left unread,
// or read only in part, is reported again, as LibIPC's poll loop does.
func waitReadable(raw interface {
	Read(func(uintptr) bool) error
}) bool {
	err := raw.Read(func(fd uintptr) bool {
		return readable(int(fd)) // false: wait for new data, then ask again
	})
	return err == nil
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

// rearmExternals lets the external handed out by the last Wait be
// watched again, now that the caller is back.
func (l *Loop) rearmExternals() {
	if x := l.handed; x != nil {
		l.handed = nil
		select {
		case x.rearm <- struct{}{}:
		default:
		}
	}
}

// Close stops watching and closes the fd.
func (x *External) Close() error {
	x.closed.Store(true)
	select {
	case x.rearm <- struct{}{}:
	default:
	}
	return x.f.Close()
}

package ipc

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// poller is the loop's own epoll instance. Wait reads the connections it
// finds ready itself, so that a message wakes the goroutine that hands it
// out, instead of a reader goroutine that must then wake Wait's. The
// epoll fd is itself watched by the runtime's poller: when nothing is
// ready, Wait parks like any goroutine blocked on a socket, and a timer
// is a read deadline on it.
//
// Connections and externals are watched under a token (the connection's
// or external's number); token 0 is an eventfd that goroutines write to
// wake Wait for what they post (new clients, sent events, switches).
type poller struct {
	ep, ev   *os.File // the epoll fd and the eventfd
	epRaw    syscall.RawConn
	evRaw    syscall.RawConn
	deadline time.Time // the read deadline set on ep

	// sleeping is set while Wait is in, or about to enter, its wait with
	// nothing posted: a poster that clears it must wake Wait.
	sleeping atomic.Bool

	evs  [128]unix.EpollEvent
	n, i int // results of the last epoll_wait, and the next to handle
}

// wakeToken is the token of the eventfd.
const wakeToken = 0

// externalBit marks the tokens of externals, so that they never meet the
// numbers of connections.
const externalBit = 1 << 63

func newPoller() (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	evfd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN} // token 0
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, evfd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(evfd)
		return nil, fmt.Errorf("epoll_ctl: %w", err)
	}
	unix.SetNonblock(epfd, true) // so that the runtime polls it
	p := &poller{ep: os.NewFile(uintptr(epfd), "epoll"), ev: os.NewFile(uintptr(evfd), "eventfd")}
	if p.epRaw, err = p.ep.SyscallConn(); err == nil {
		p.evRaw, err = p.ev.SyscallConn()
	}
	if err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// closedPoller stands in for a poller that could not be made: every
// method of a nil *os.File fails.
func closedPoller() *poller { return &poller{} }

// watch adds, changes or removes the watch of fd under token. It fails
// with ErrClosed once the poller is closed.
func (p *poller) watch(op, fd int, token uint64, events uint32) error {
	if p.epRaw == nil {
		return ErrClosed
	}
	ev := unix.EpollEvent{Events: events, Fd: int32(uint32(token)), Pad: int32(uint32(token >> 32))}
	var err error
	cerr := p.epRaw.Control(func(epfd uintptr) {
		for {
			if err = unix.EpollCtl(int(epfd), op, fd, &ev); err != unix.EINTR {
				return
			}
		}
	})
	if cerr != nil {
		return ErrClosed
	}
	return err
}

// token returns the token of the i-th result.
func (p *poller) token(i int) uint64 {
	return uint64(uint32(p.evs[i].Fd)) | uint64(uint32(p.evs[i].Pad))<<32
}

// poll collects what is ready now, without waiting.
func (p *poller) poll() {
	p.i, p.n = 0, 0
	if p.epRaw != nil {
		p.epRaw.Control(func(epfd uintptr) {
			p.n, _ = epollNow(int(epfd), p.evs[:])
			p.n = max(p.n, 0)
		})
	}
}

// wait collects what is ready, waiting until something is or until the
// deadline passes (none when zero). It returns ErrClosed once the poller
// is closed.
func (p *poller) wait(deadline time.Time) error {
	if deadline != p.deadline {
		p.deadline = deadline
		p.ep.SetReadDeadline(deadline)
	}
	err := p.collect()
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil
	}
	return err
}

// collect runs epoll_wait without sleeping in it; while nothing is ready,
// the goroutine parks until the epoll fd is readable.
func (p *poller) collect() error {
	p.i, p.n = 0, 0
	if p.epRaw == nil {
		return ErrClosed
	}
	var werr error
	err := p.epRaw.Read(func(epfd uintptr) bool {
		n, err := epollNow(int(epfd), p.evs[:])
		if err != nil {
			werr = fmt.Errorf("epoll_wait: %w", err)
			return true
		}
		p.n = n
		return n > 0
	})
	if err != nil {
		if errors.Is(err, os.ErrClosed) {
			return ErrClosed
		}
		return err
	}
	return werr
}

// wake makes a waiting or coming wait return.
func (p *poller) wake() {
	one := [8]byte{1} // a non-zero u64 in either byte order
	p.ev.Write(one[:])
}

// drainWake resets the eventfd after it woke wait.
func (p *poller) drainWake() {
	if p.evRaw != nil {
		p.evRaw.Control(func(fd uintptr) {
			var buf [8]byte
			readNow(int(fd), buf[:])
		})
	}
}

// close releases the fds; a goroutine parked in wait returns ErrClosed.
func (p *poller) close() {
	p.ep.Close()
	p.ev.Close()
}

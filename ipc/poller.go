package ipc

import (
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// poller is the loop's own epoll instance. Wait sleeps in epoll_wait on
// it, so that a message wakes the very thread that hands it out, as in a
// C event loop, instead of a reader goroutine that must then wake Wait's.
// Connections and externals are watched under a token (the connection's
// or external's number); token 0 is an eventfd that goroutines write to
// wake Wait for what they post (new clients, sent events, switches).
type poller struct {
	// mu is held for reading around every use of the two fds and taken
	// for writing to close them, so that no fd number is used once it may
	// belong to something else.
	mu     sync.RWMutex
	epfd   int
	evfd   int
	closed bool

	// sleeping is set while Wait is in, or about to enter, epoll_wait
	// with nothing posted: a poster that clears it must wake Wait.
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
	p := &poller{epfd: epfd, evfd: evfd}
	if err := p.ctl(unix.EPOLL_CTL_ADD, evfd, wakeToken, unix.EPOLLIN); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// ctl adds, changes or removes the watch of fd. The caller holds mu for
// reading, or owns p alone.
func (p *poller) ctl(op, fd int, token uint64, events uint32) error {
	ev := unix.EpollEvent{Events: events, Fd: int32(uint32(token)), Pad: int32(uint32(token >> 32))}
	for {
		err := unix.EpollCtl(p.epfd, op, fd, &ev)
		if err != unix.EINTR {
			return err
		}
	}
}

// watch applies op to fd under token, unless the poller is closed.
func (p *poller) watch(op, fd int, token uint64, events uint32) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return ErrClosed
	}
	return p.ctl(op, fd, token, events)
}

// token returns the token of the i-th result.
func (p *poller) token(i int) uint64 {
	return uint64(uint32(p.evs[i].Fd)) | uint64(uint32(p.evs[i].Pad))<<32
}

// wait collects ready fds, sleeping at most msec milliseconds (-1: until
// something is ready). It returns ErrClosed once the poller is closed.
func (p *poller) wait(msec int) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return ErrClosed
	}
	n, err := unix.EpollWait(p.epfd, p.evs[:], msec)
	p.i, p.n = 0, max(n, 0)
	if err != nil && err != unix.EINTR {
		return fmt.Errorf("epoll_wait: %w", err)
	}
	return nil
}

// wake makes a sleeping or coming wait return.
func (p *poller) wake() {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if !p.closed {
		one := [8]byte{1} // a non-zero u64 in either byte order
		unix.Write(p.evfd, one[:])
	}
}

// drainWake resets the eventfd after it woke wait.
func (p *poller) drainWake() {
	var buf [8]byte
	unix.Read(p.evfd, buf[:])
}

// close releases the fds once no wait or wake uses them.
func (p *poller) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		unix.Close(p.evfd)
		unix.Close(p.epfd)
	}
}

package bridge

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
)

// Defaults of a udp:// endpoint.
const (
	// DefaultUDPIdle is how long a sender's pseudo-connection lives with
	// no datagram either way, when UDPOptions.Idle is 0.
	DefaultUDPIdle = 30 * time.Second
	// DefaultUDPPeers bounds the senders followed at once.
	DefaultUDPPeers = 1024
	// maxDatagram is the largest UDP payload over IPv4 and IPv6.
	maxDatagram = 65535
	// udpInbox is how many datagrams of one sender wait to be read.
	udpInbox = 64
	// udpQueued bounds the bytes of all senders' unread datagrams.
	udpQueued = 16 << 20
)

// UDPOptions set up a udp:// endpoint.
type UDPOptions struct {
	// Idle ends a sender's pseudo-connection after that long with no
	// datagram from it or to it (DefaultUDPIdle when 0).
	Idle time.Duration
	// MaxPeers bounds the senders followed at once (DefaultUDPPeers when
	// 0): the datagrams of others are dropped until one expires.
	MaxPeers int
}

// UDPConn is one sender of a udp:// listener as a MessageConn: each
// datagram from it is a message, and each message written to it is one
// datagram back to its address.
type UDPConn struct {
	l      *udpListener
	addr   netip.AddrPort
	inbox  chan []byte
	last   atomic.Int64 // Unix nanoseconds of the last datagram either way
	timer  *time.Timer
	once   sync.Once
	closed chan struct{}
}

// ReadMessage returns the sender's next datagram; ErrClosed once the
// pseudo-connection expired or was closed: a sender never ends its side,
// it is only forgotten.
func (c *UDPConn) ReadMessage() ([]byte, error) {
	select {
	case p := <-c.inbox:
		c.l.queued.Add(-int64(len(p)))
		return p, nil
	case <-c.closed:
		return nil, ipc.ErrClosed
	}
}

// WriteMessage sends p to the sender as one datagram.
func (c *UDPConn) WriteMessage(p []byte) error {
	select {
	case <-c.closed:
		return ipc.ErrClosed
	default:
	}
	if len(p) > maxUDPPayload(c.addr) {
		return fmt.Errorf("%w: a message of %d bytes does not fit in a UDP datagram", ipc.ErrTooLarge, len(p))
	}
	c.last.Store(time.Now().UnixNano())
	_, err := c.l.pc.WriteToUDPAddrPort(p, c.addr)
	return err
}

// Close ends the pseudo-connection; a later datagram from the same
// address starts a new one.
func (c *UDPConn) Close() error {
	c.once.Do(func() {
		c.timer.Stop()
		// Forgotten first: once a read sees the close, the sender and
		// its unread datagrams are no longer held.
		c.l.forget(c)
		close(c.closed)
	})
	return nil
}

// RemoteAddr is the sender's address.
func (c *UDPConn) RemoteAddr() net.Addr { return net.UDPAddrFromAddrPort(c.addr) }

// expire closes the pseudo-connection once idle, or looks again when it
// could be.
func (c *UDPConn) expire() {
	quiet := time.Since(time.Unix(0, c.last.Load()))
	if quiet < c.l.opts.Idle {
		c.timer.Reset(c.l.opts.Idle - quiet)
		return
	}
	c.Close()
}

// maxUDPPayload is the largest datagram payload to addr.
func maxUDPPayload(addr netip.AddrPort) int {
	if addr.Addr().Unmap().Is4() {
		return 65507
	}
	return 65527
}

// udpListener follows the senders of datagrams to a UDP socket, one
// UDPConn per sender address.
type udpListener struct {
	pc     *net.UDPConn
	max    int
	opts   UDPOptions
	report func(error)
	queued atomic.Int64 // bytes of datagrams not read yet

	mu      sync.Mutex
	peers   map[netip.AddrPort]*UDPConn
	accept  chan *UDPConn
	done    chan struct{}
	once    sync.Once
	dropped rateLimit
	reports chan error   // to reportDrops, one at a time
	unsaid  atomic.Int64 // datagrams dropped since the last report
}

// listenUDP binds a UDP socket for e and starts reading it.
func listenUDP(e Endpoint, opts EndpointOptions) (*udpListener, error) {
	pc, err := net.ListenPacket("udp", e.Host)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w", e, err)
	}
	return serveUDP(pc.(*net.UDPConn), opts), nil
}

// serveUDP follows the senders of datagrams to pc.
func serveUDP(pc *net.UDPConn, opts EndpointOptions) *udpListener {
	uo := opts.UDP
	if uo.Idle <= 0 {
		uo.Idle = DefaultUDPIdle
	}
	if uo.MaxPeers <= 0 {
		uo.MaxPeers = DefaultUDPPeers
	}
	max := opts.MaxSize
	if max <= 0 {
		max = ipc.DefaultMaxSize
	}
	l := &udpListener{
		pc: pc, max: max, opts: uo, report: opts.Report,
		peers:  make(map[netip.AddrPort]*UDPConn),
		accept: make(chan *UDPConn, uo.MaxPeers),
		done:   make(chan struct{}),
	}
	if l.report != nil {
		l.reports = make(chan error, 1)
		go l.reportDrops()
	}
	go l.read()
	return l
}

// read takes the datagrams and hands each to its sender's UDPConn.
func (l *udpListener) read() {
	buf := make([]byte, maxDatagram+1)
	for {
		n, addr, err := l.pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // an ICMP error for an earlier reply, say
		}
		if n > l.max {
			l.drop(fmt.Errorf("%w: a datagram of %d bytes from %s is over the limit of %d bytes; dropped", ipc.ErrTooLarge, n, addr, l.max))
			continue
		}
		l.deliver(addr, append([]byte(nil), buf[:n]...))
	}
}

// deliver queues p for its sender, following a new sender if there is
// room; what does not fit is dropped, as the network may drop it.
func (l *udpListener) deliver(addr netip.AddrPort, p []byte) {
	if l.queued.Load()+int64(len(p)) > udpQueued {
		l.drop(fmt.Errorf("datagram from %s dropped: %d bytes of datagrams are waiting to be read", addr, l.queued.Load()))
		return
	}
	// Under mu, so that a UDPConn closing meanwhile drains what is
	// queued here once it is forgotten.
	l.mu.Lock()
	defer l.mu.Unlock()
	c, err := l.peer(addr)
	if err != nil {
		l.drop(err)
		return
	}
	c.last.Store(time.Now().UnixNano())
	select {
	case c.inbox <- p:
		l.queued.Add(int64(len(p)))
	default:
		l.drop(fmt.Errorf("datagram from %s dropped: %d of its datagrams are waiting to be read", addr, udpInbox))
	}
}

// peer returns the UDPConn of addr, starting one if there is room. The
// caller holds mu.
func (l *udpListener) peer(addr netip.AddrPort) (*UDPConn, error) {
	if c := l.peers[addr]; c != nil {
		return c, nil
	}
	if len(l.peers) >= l.opts.MaxPeers {
		return nil, fmt.Errorf("datagram from %s dropped: %d senders are followed already", addr, l.opts.MaxPeers)
	}
	c := &UDPConn{l: l, addr: addr, inbox: make(chan []byte, udpInbox), closed: make(chan struct{})}
	c.last.Store(time.Now().UnixNano())
	c.timer = time.AfterFunc(l.opts.Idle, c.expire)
	l.peers[addr] = c
	l.accept <- c // room for every peer: never blocks
	return c, nil
}

// forget drops a closed UDPConn and its unread datagrams.
func (l *udpListener) forget(c *UDPConn) {
	l.mu.Lock()
	if l.peers[c.addr] == c {
		delete(l.peers, c.addr)
	}
	l.mu.Unlock()
	for {
		select {
		case p := <-c.inbox:
			l.queued.Add(-int64(len(p)))
		default:
			return
		}
	}
}

// drop reports a datagram dropped, at most once a second, saying how many
// more were dropped since the last report. The report is made by
// reportDrops, so that one stuck on a full stdout never stalls reading.
func (l *udpListener) drop(err error) {
	if l.report == nil {
		return
	}
	if !l.dropped.allow() {
		l.unsaid.Add(1)
		return
	}
	n := l.unsaid.Swap(0)
	if n > 0 {
		err = fmt.Errorf("%w (and %d more datagrams dropped since the last report)", err, n)
	}
	select {
	case l.reports <- err:
	default: // the last report is not made yet
		l.unsaid.Add(n + 1)
	}
}

// reportDrops makes drop's reports until the listener closes.
func (l *udpListener) reportDrops() {
	for {
		select {
		case err := <-l.reports:
			l.report(err)
		case <-l.done:
			return
		}
	}
}

// Accept returns the pseudo-connection of the next new sender.
func (l *udpListener) Accept() (ipc.MessageConn, error) {
	select {
	case c := <-l.accept:
		return c, nil
	case <-l.done:
		return nil, ipc.ErrClosed
	}
}

// Close stops reading and ends every pseudo-connection.
func (l *udpListener) Close() error {
	var err error
	l.once.Do(func() {
		close(l.done)
		err = l.pc.Close()
		l.mu.Lock()
		peers := make([]*UDPConn, 0, len(l.peers))
		for _, c := range l.peers {
			peers = append(peers, c)
		}
		l.mu.Unlock()
		for _, c := range peers {
			c.Close()
		}
	})
	return err
}

func (l *udpListener) Addr() string { return "udp://" + l.pc.LocalAddr().String() }

// rateLimit lets one thing through a second.
type rateLimit struct{ next atomic.Int64 }

// allow reports whether the thing may happen now.
func (r *rateLimit) allow() bool {
	now := time.Now().UnixNano()
	next := r.next.Load()
	return now >= next && r.next.CompareAndSwap(next, now+int64(time.Second))
}

// udpDialConn is a dialled udp:// endpoint: each message is a datagram to
// it, each datagram from it a message.
type udpDialConn struct {
	c      *net.UDPConn
	max    int
	report func(error)
	buf    []byte
}

// dialUDP opens a UDP socket connected to e.
func dialUDP(e Endpoint, opts EndpointOptions) (*udpDialConn, error) {
	c, err := net.Dial("udp", e.Host)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot connect to %s: %v", ipc.ErrRefused, e, err)
	}
	max := opts.MaxSize
	if max <= 0 {
		max = ipc.DefaultMaxSize
	}
	return &udpDialConn{c: c.(*net.UDPConn), max: max, report: opts.Report, buf: make([]byte, maxDatagram+1)}, nil
}

// ReadMessage returns the next datagram, dropping those over the limit.
func (d *udpDialConn) ReadMessage() ([]byte, error) {
	for {
		n, err := d.c.Read(d.buf)
		if errors.Is(err, net.ErrClosed) {
			return nil, ipc.ErrClosed
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ipc.ErrRefused, d.c.RemoteAddr(), err)
		}
		if n <= d.max {
			return append([]byte(nil), d.buf[:n]...), nil
		}
		if d.report != nil {
			d.report(fmt.Errorf("%w: a datagram of %d bytes from %s is over the limit of %d bytes; dropped", ipc.ErrTooLarge, n, d.c.RemoteAddr(), d.max))
		}
	}
}

// WriteMessage sends p as one datagram.
func (d *udpDialConn) WriteMessage(p []byte) error {
	_, err := d.c.Write(p)
	return err
}

func (d *udpDialConn) Close() error { return d.c.Close() }

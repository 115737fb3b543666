package bridge

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ipcctl/ipcctl/ipc"

	"github.com/coder/websocket"
)

// WSConn is a MessageConn over a WebSocket: one WebSocket message per
// message. It sends a text message when the payload is valid UTF-8 and a
// binary one otherwise, unless told to send binary always.
type WSConn struct {
	ws     *websocket.Conn
	binary bool
	ctx    context.Context
	cancel context.CancelFunc
	once   sync.Once
	closed chan struct{}
	remote string // the peer's address, when known
}

// NewWSConn wraps an open WebSocket, refusing received messages over max
// bytes (DefaultMaxSize when max <= 0). With binary, every message is sent
// as a binary message.
func NewWSConn(ws *websocket.Conn, max int, binary bool) *WSConn {
	if max <= 0 {
		max = ipc.DefaultMaxSize
	}
	ws.SetReadLimit(int64(max))
	ctx, cancel := context.WithCancel(context.Background())
	return &WSConn{ws: ws, binary: binary, ctx: ctx, cancel: cancel, closed: make(chan struct{})}
}

// ReadMessage returns the next WebSocket message, text or binary. A close
// frame with a normal status, or the stream's end, is io.EOF.
func (c *WSConn) ReadMessage() ([]byte, error) {
	return c.read(c.ctx)
}

// read is ReadMessage bounded by ctx.
func (c *WSConn) read(ctx context.Context) ([]byte, error) {
	_, p, err := c.ws.Read(ctx)
	if err != nil {
		return nil, c.readError(err)
	}
	return p, nil
}

// readError turns the WebSocket library's errors into the package's.
func (c *WSConn) readError(err error) error {
	if errors.Is(err, websocket.ErrMessageTooBig) {
		return fmt.Errorf("%w: %v", ipc.ErrTooLarge, err)
	}
	switch websocket.CloseStatus(err) {
	case websocket.StatusNormalClosure, websocket.StatusGoingAway, websocket.StatusNoStatusRcvd:
		return io.EOF
	case websocket.StatusMessageTooBig:
		return fmt.Errorf("%w: a WebSocket message is over the limit", ipc.ErrTooLarge)
	}
	select {
	case <-c.closed:
		return ipc.ErrClosed
	default:
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return io.EOF
	}
	return err
}

// WriteMessage sends p as one WebSocket message.
func (c *WSConn) WriteMessage(p []byte) error {
	typ := websocket.MessageBinary
	if !c.binary && utf8.Valid(p) {
		typ = websocket.MessageText
	}
	if err := c.ws.Write(c.ctx, typ, p); err != nil {
		select {
		case <-c.closed:
			return ipc.ErrClosed
		default:
		}
		return err
	}
	return nil
}

// Close ends the WebSocket with a normal close status. The close
// handshake waits for the peer a few seconds at most.
func (c *WSConn) Close() error {
	c.once.Do(func() {
		close(c.closed)
		c.ws.Close(websocket.StatusNormalClosure, "")
		c.cancel()
	})
	return nil
}

// Done returns a channel closed when Close is called.
func (c *WSConn) Done() <-chan struct{} { return c.closed }

// WSOptions set up the WebSocket side of an endpoint.
type WSOptions struct {
	// Binary sends every message as a binary message.
	Binary bool
	// Origins lists the host patterns of web pages allowed to connect
	// besides the server's own host (see websocket.AcceptOptions). Clients
	// that send no Origin header, as non-browser clients do, are accepted.
	Origins []string
}

// wsListener accepts WebSocket upgrades on one path of an HTTP server.
type wsListener struct {
	srv   *http.Server
	ln    net.Listener
	path  string
	url   string
	max   int
	opts  WSOptions
	conns chan *WSConn
	// refused carries the requests refused (wrong path, not a
	// WebSocket, bad Origin) to Accept, which returns them as errors so
	// that they are reported; it drops them when nobody reads.
	refused chan error
	done    chan struct{}
	once    sync.Once
}

// listenWS serves WebSocket upgrades on ln at path; scheme is "ws" or "wss".
func listenWS(ln net.Listener, scheme, path string, max int, opts WSOptions) *wsListener {
	l := &wsListener{
		ln:      ln,
		path:    path,
		url:     scheme + "://" + ln.Addr().String() + path,
		max:     max,
		opts:    opts,
		conns:   make(chan *WSConn),
		refused: make(chan error, 16),
		done:    make(chan struct{}),
	}
	l.srv = &http.Server{Handler: l, ReadHeaderTimeout: 10 * time.Second, ErrorLog: discardLog}
	go l.srv.Serve(ln)
	return l
}

// ServeHTTP upgrades a request for the listener's path and hands the
// WebSocket to Accept, then holds the request until the WebSocket closes.
func (l *wsListener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != l.path {
		http.NotFound(w, r)
		l.refuse(ipc.Errorf(ipc.ErrRefused, "refused %s %s from %s: the WebSocket is at %s", r.Method, r.URL.Path, r.RemoteAddr, l.path))
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: l.opts.Origins})
	if err != nil {
		// Accept has answered the client (not a WebSocket, bad Origin).
		l.refuse(ipc.Errorf(ipc.ErrRefused, "refused a WebSocket handshake from %s: %v", r.RemoteAddr, err))
		return
	}
	c := NewWSConn(ws, l.max, l.opts.Binary)
	c.remote = r.RemoteAddr
	select {
	case l.conns <- c:
		<-c.Done()
	case <-l.done:
		ws.Close(websocket.StatusGoingAway, "shutting down")
	}
}

// refuse hands a refused request to Accept, or drops it when Accept is
// not keeping up: a flood of bad requests never blocks the server.
func (l *wsListener) refuse(err error) {
	select {
	case l.refused <- err:
	default:
	}
}

// Accept returns the next WebSocket client, or an error wrapping
// ipc.ErrRefused for a request it refused: the next one may pass.
func (l *wsListener) Accept() (ipc.MessageConn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case err := <-l.refused:
		return nil, err
	case <-l.done:
		return nil, ipc.ErrClosed
	}
}

// Close stops the HTTP server. WebSockets already accepted stay open.
func (l *wsListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.srv.Close()
}

// Addr returns the URL clients connect to.
func (l *wsListener) Addr() string { return l.url }

// DialWS opens a WebSocket to url (ws:// or wss://) as a MessageConn.
// tlsConf, when not nil, sets up wss://.
func DialWS(ctx context.Context, url string, max int, opts WSOptions, tlsConf *tls.Config) (*WSConn, error) {
	var dopts websocket.DialOptions
	if tlsConf != nil {
		dopts.HTTPClient = &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf}}
	}
	ws, resp, err := websocket.Dial(ctx, url, &dopts)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("%w: %s answered %s", ipc.ErrRefused, url, resp.Status)
		}
		return nil, fmt.Errorf("%w: cannot open a WebSocket to %s: %v", ipc.ErrRefused, url, err)
	}
	return NewWSConn(ws, max, opts.Binary), nil
}

// wsStream shows a WSConn as a stream of LibIPC frames, so that a Conn
// (and so Dial, through IPC_NETWORK) can run over a WebSocket: each
// message read becomes a frame, each frame written becomes a message.
type wsStream struct {
	ws   *WSConn
	addr wsAddr
	rbuf []byte
	wmu  sync.Mutex
	wbuf []byte

	mu       sync.Mutex
	deadline time.Time
	cancel   context.CancelFunc // of the read in progress
	timer    *time.Timer
}

// wsAddr names the far end of a WebSocket by its URL.
type wsAddr string

func (a wsAddr) Network() string { return "websocket" }
func (a wsAddr) String() string  { return string(a) }

func newWSStream(ws *WSConn, url string) *wsStream {
	return &wsStream{ws: ws, addr: wsAddr(url)}
}

func (s *wsStream) Read(p []byte) (int, error) {
	if len(s.rbuf) == 0 {
		msg, err := s.readMessage()
		if err != nil {
			return 0, err
		}
		s.rbuf = ipc.AppendFrame(make([]byte, 0, ipc.HeaderSize+len(msg)), msg)
	}
	n := copy(p, s.rbuf)
	s.rbuf = s.rbuf[n:]
	return n, nil
}

// readMessage reads one message, giving up at the read deadline.
func (s *wsStream) readMessage() ([]byte, error) {
	ctx, cancel := context.WithCancel(s.ws.ctx)
	defer cancel()
	s.mu.Lock()
	if !s.deadline.IsZero() && !time.Now().Before(s.deadline) {
		s.mu.Unlock()
		return nil, os.ErrDeadlineExceeded
	}
	s.cancel = cancel
	s.arm()
	s.mu.Unlock()
	msg, err := s.ws.read(ctx)
	s.mu.Lock()
	s.cancel = nil
	s.arm()
	s.mu.Unlock()
	if err != nil && ctx.Err() != nil && s.ws.ctx.Err() == nil {
		return nil, os.ErrDeadlineExceeded
	}
	return msg, err
}

// arm sets the timer that ends the read in progress at the deadline.
// The caller holds mu.
func (s *wsStream) arm() {
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	if s.cancel != nil && !s.deadline.IsZero() {
		s.timer = time.AfterFunc(time.Until(s.deadline), s.cancel)
	}
}

// Write sends each whole frame in p (with what earlier writes left) as one
// message.
func (s *wsStream) Write(p []byte) (int, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.wbuf = append(s.wbuf, p...)
	for len(s.wbuf) >= ipc.HeaderSize {
		n := int(binary.BigEndian.Uint32(s.wbuf))
		if len(s.wbuf) < ipc.HeaderSize+n {
			break
		}
		if err := s.ws.WriteMessage(s.wbuf[ipc.HeaderSize : ipc.HeaderSize+n]); err != nil {
			return 0, err
		}
		s.wbuf = s.wbuf[:copy(s.wbuf, s.wbuf[ipc.HeaderSize+n:])]
	}
	return len(p), nil
}

func (s *wsStream) Close() error { return s.ws.Close() }

func (s *wsStream) LocalAddr() net.Addr  { return wsAddr("") }
func (s *wsStream) RemoteAddr() net.Addr { return s.addr }

func (s *wsStream) SetDeadline(t time.Time) error { return s.SetReadDeadline(t) }

// SetReadDeadline bounds reads. A read cut by its deadline closes the
// WebSocket, as the WebSocket library cannot resume a read.
func (s *wsStream) SetReadDeadline(t time.Time) error {
	s.mu.Lock()
	s.deadline = t
	s.arm()
	s.mu.Unlock()
	return nil
}

// SetWriteDeadline is not supported; writes end when the WebSocket does.
func (s *wsStream) SetWriteDeadline(time.Time) error { return nil }

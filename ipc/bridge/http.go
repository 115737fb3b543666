package bridge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ipcctl/ipcctl/ipc"
)

// Defaults of an http:// endpoint.
const (
	// DefaultHTTPTimeout is how long a request waits for its reply, when
	// HTTPOptions.Timeout is 0.
	DefaultHTTPTimeout = 30 * time.Second
	// DefaultHTTPRequests bounds the requests handled at once.
	DefaultHTTPRequests = 64
	// httpHeaderTimeout bounds how long a client takes to send its
	// request's head, so that a silent client does not hold a connection.
	httpHeaderTimeout = 10 * time.Second
)

// HTTPOptions set up an http:// endpoint.
type HTTPOptions struct {
	// Timeout is how long a request waits for the service's reply before
	// it is answered 504 (DefaultHTTPTimeout when 0).
	Timeout time.Duration
	// MaxRequests bounds the requests handled at once
	// (DefaultHTTPRequests when 0): others are answered 503.
	MaxRequests int
}

// HTTPConn is one HTTP request as a MessageConn: its body is the one
// message read from it, and the first message written to it is the
// response's body. Then it is closed.
type HTTPConn struct {
	body    []byte
	read    bool
	method  string
	query   string
	remote  net.Addr
	replied chan []byte   // the reply, once
	ended   chan struct{} // the other side ended without a reply
	closed  chan struct{}
	mu      sync.Mutex
	failure error
	// answered is set by the first WriteMessage.
	answered bool
	once     sync.Once
}

// ReadMessage returns the request's body, then ErrClosed once the
// exchange is over.
func (c *HTTPConn) ReadMessage() ([]byte, error) {
	c.mu.Lock()
	first := !c.read
	c.read = true
	c.mu.Unlock()
	if first {
		return c.body, nil
	}
	<-c.closed
	return nil, ipc.ErrClosed
}

// WriteMessage gives the reply; a second reply has no request left.
func (c *HTTPConn) WriteMessage(p []byte) error {
	c.mu.Lock()
	answered := c.answered
	c.answered = true
	c.mu.Unlock()
	if answered {
		return fmt.Errorf("%w: the HTTP request was answered already", ipc.ErrClosed)
	}
	c.replied <- p // room for the one reply
	c.Close()
	return nil
}

// CloseWrite tells that the other side ended: no reply is coming.
func (c *HTTPConn) CloseWrite() error {
	c.once.Do(func() { close(c.ended) })
	return nil
}

// Close ends the exchange.
func (c *HTTPConn) Close() error {
	c.CloseWrite()
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.closed:
	default:
		close(c.closed)
	}
	return nil
}

// Fail records why the service will not answer, for the response.
func (c *HTTPConn) Fail(err error) {
	c.mu.Lock()
	c.failure = err
	c.mu.Unlock()
}

// RemoteAddr is the client's address.
func (c *HTTPConn) RemoteAddr() net.Addr { return c.remote }

// Env describes the request in CGI's terms.
func (c *HTTPConn) Env() []string {
	return []string{"REQUEST_METHOD=" + c.method, "QUERY_STRING=" + c.query}
}

// httpListener turns the requests to one path into HTTPConns.
type httpListener struct {
	srv    *http.Server
	ln     net.Listener
	path   string
	max    int
	opts   HTTPOptions
	report func(error)
	slots  chan struct{}
	accept chan *HTTPConn
	done   chan struct{}
	once   sync.Once
}

// listenHTTP serves HTTP on ln, taking the requests to path.
func listenHTTP(ln net.Listener, path string, opts EndpointOptions) *httpListener {
	ho := opts.HTTP
	if ho.Timeout <= 0 {
		ho.Timeout = DefaultHTTPTimeout
	}
	if ho.MaxRequests <= 0 {
		ho.MaxRequests = DefaultHTTPRequests
	}
	max := opts.MaxSize
	if max <= 0 {
		max = ipc.DefaultMaxSize
	}
	l := &httpListener{
		ln: ln, path: path, max: max, opts: ho, report: opts.Report,
		slots:  make(chan struct{}, ho.MaxRequests),
		accept: make(chan *HTTPConn),
		done:   make(chan struct{}),
	}
	l.srv = &http.Server{Handler: l, ReadHeaderTimeout: httpHeaderTimeout, ReadTimeout: ho.Timeout,
		IdleTimeout: time.Minute, ErrorLog: discardLog}
	go l.srv.Serve(ln)
	return l
}

// ServeHTTP answers one request with the service's reply.
func (l *httpListener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != l.path {
		httpError(w, http.StatusNotFound, "no service at "+r.URL.Path+"; try "+l.path)
		return
	}
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET, POST")
		httpError(w, http.StatusMethodNotAllowed, r.Method+" is not served: POST the message, or GET for an empty one")
		return
	}
	select {
	case l.slots <- struct{}{}:
		defer func() { <-l.slots }()
	default:
		l.refuse(w, r, http.StatusServiceUnavailable, fmt.Sprintf("%d requests are being answered already", l.opts.MaxRequests))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(l.max)))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		l.refuse(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over the limit of %d bytes", l.max))
		return
	case err != nil:
		return // the client went away
	}
	l.exchange(w, r, body)
}

// exchange hands the request to the service and writes its reply.
func (l *httpListener) exchange(w http.ResponseWriter, r *http.Request, body []byte) {
	c := &HTTPConn{body: body, method: r.Method, query: r.URL.RawQuery, remote: remoteOf(r),
		replied: make(chan []byte, 1), ended: make(chan struct{}), closed: make(chan struct{})}
	defer c.Close()
	ctx, cancel := context.WithTimeout(r.Context(), l.opts.Timeout)
	defer cancel()
	select {
	case l.accept <- c:
	case <-ctx.Done():
		l.timedOut(w, r)
		return
	case <-l.done:
		httpError(w, http.StatusServiceUnavailable, "the service is stopping")
		return
	}
	select {
	case p := <-c.replied:
		writeReply(w, p)
	case <-c.ended:
		l.unanswered(w, r, c)
	case <-ctx.Done():
		l.timedOut(w, r)
	}
}

// unanswered answers a request whose service ended without a reply.
func (l *httpListener) unanswered(w http.ResponseWriter, r *http.Request, c *HTTPConn) {
	select {
	case p := <-c.replied: // the reply and the end crossed
		writeReply(w, p)
		return
	default:
	}
	c.mu.Lock()
	failure := c.failure
	c.mu.Unlock()
	if failure != nil {
		httpError(w, http.StatusInternalServerError, failure.Error())
		return
	}
	httpError(w, http.StatusBadGateway, "the service closed the connection without a reply")
}

// timedOut answers a request that got no reply in time.
func (l *httpListener) timedOut(w http.ResponseWriter, r *http.Request) {
	if r.Context().Err() != nil {
		return // the client went away
	}
	l.refuse(w, r, http.StatusGatewayTimeout, fmt.Sprintf("no reply within %v", l.opts.Timeout))
}

// refuse answers status with msg, and reports it.
func (l *httpListener) refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if l.report != nil {
		l.report(fmt.Errorf("%s %s from %s: %d %s: %s", r.Method, r.URL.Path, r.RemoteAddr, status, http.StatusText(status), msg))
	}
	httpError(w, status, msg)
}

// writeReply sends the service's reply as a 200 response.
func writeReply(w http.ResponseWriter, p []byte) {
	ct := "application/octet-stream"
	if utf8.Valid(p) {
		ct = "text/plain; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(p)))
	w.WriteHeader(http.StatusOK)
	w.Write(p)
}

// httpError sends status with msg and a newline as the body.
func httpError(w http.ResponseWriter, status int, msg string) {
	http.Error(w, msg, status)
}

// remoteOf is the request's client address.
func remoteOf(r *http.Request) net.Addr {
	a, err := net.ResolveTCPAddr("tcp", r.RemoteAddr)
	if err != nil {
		return nil
	}
	return a
}

// Accept returns the next request.
func (l *httpListener) Accept() (ipc.MessageConn, error) {
	select {
	case c := <-l.accept:
		return c, nil
	case <-l.done:
		return nil, ipc.ErrClosed
	}
}

// Close stops serving: requests under way end at once.
func (l *httpListener) Close() error {
	var err error
	l.once.Do(func() {
		close(l.done)
		err = l.srv.Close()
	})
	return err
}

func (l *httpListener) Addr() string { return "http://" + l.ln.Addr().String() + l.path }

// httpDialConn is a dialled http:// endpoint: each message is POSTed to
// it, and each response's body is a message back.
type httpDialConn struct {
	url     string
	client  *http.Client
	max     int
	replies chan []byte
	closed  chan struct{}
	once    sync.Once
}

// dialHTTP returns the client of e.
func dialHTTP(e Endpoint, opts EndpointOptions) *httpDialConn {
	timeout := opts.HTTP.Timeout
	if timeout <= 0 {
		timeout = DefaultHTTPTimeout
	}
	max := opts.MaxSize
	if max <= 0 {
		max = ipc.DefaultMaxSize
	}
	return &httpDialConn{url: e.String(), client: &http.Client{Timeout: timeout}, max: max,
		replies: make(chan []byte, 1), closed: make(chan struct{})}
}

// WriteMessage POSTs p and queues the response's body; a response other
// than 2xx is an error.
func (d *httpDialConn) WriteMessage(p []byte) error {
	resp, err := d.client.Post(d.url, "application/octet-stream", bytes.NewReader(p))
	if err != nil {
		return fmt.Errorf("%w: %v", ipc.ErrRefused, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(d.max)+1))
	if err != nil {
		return fmt.Errorf("reading the response of %s: %w", d.url, err)
	}
	if len(body) > d.max {
		return fmt.Errorf("%w: the response of %s is over %d bytes", ipc.ErrTooLarge, d.url, d.max)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s: %s", d.url, resp.Status, trimBody(body))
	}
	select {
	case d.replies <- body:
		return nil
	case <-d.closed:
		return ipc.ErrClosed
	}
}

// ReadMessage returns the next response's body.
func (d *httpDialConn) ReadMessage() ([]byte, error) {
	select {
	case p := <-d.replies:
		return p, nil
	case <-d.closed:
		return nil, ipc.ErrClosed
	}
}

func (d *httpDialConn) Close() error {
	d.once.Do(func() { close(d.closed) })
	return nil
}

// trimBody is a response body fit for an error message.
func trimBody(p []byte) string {
	if len(p) > 200 {
		p = p[:200]
	}
	for len(p) > 0 && (p[len(p)-1] == '\n' || p[len(p)-1] == '\r') {
		p = p[:len(p)-1]
	}
	return strconv.Quote(string(p))
}

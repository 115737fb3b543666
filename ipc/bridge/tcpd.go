package bridge

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
)

// MaxTCPdName is the most a TCPd client's first write may hold: the
// service name, read in one read as LibIPC's TCPd does.
const MaxTCPdName = 256

// tcpdTimeout bounds TCPd's handshake on both sides.
const tcpdTimeout = 10 * time.Second

// The TCPd answers: the service is connected, or no such entry.
var (
	tcpdOK = []byte("ok")
	tcpdNE = []byte("ne")
)

// DialTCPd connects to a TCPd (ipcctl switch tcp://HOST:PORT, or LibIPC's
// own) at hostport and asks it for service. Once TCPd answers "ok" the
// Conn carries LibIPC frames to and from that service; "ne" gives an error
// wrapping ErrNoService.
func DialTCPd(ctx context.Context, hostport, service string) (*ipc.Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", hostport)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot connect to TCPd at %s: %v", ipc.ErrRefused, hostport, err)
	}
	return tcpdClient(ctx, nc, service, ipc.DefaultMaxSize)
}

// tcpdClient speaks the client side of TCPd's handshake on nc.
func tcpdClient(ctx context.Context, nc net.Conn, service string, max int) (*ipc.Conn, error) {
	if err := ipc.CheckName(service); err != nil {
		nc.Close()
		return nil, err
	}
	deadline := time.Now().Add(tcpdTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	nc.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	answer, err := tcpdAsk(nc, service)
	stop()
	nc.SetDeadline(time.Time{})
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	switch {
	case bytes.Equal(answer, tcpdOK):
		return ipc.NewConn(nc, max), nil
	case bytes.Equal(answer, tcpdNE):
		nc.Close()
		return nil, fmt.Errorf("%w %q: TCPd at %s does not reach it", ipc.ErrNoService, service, nc.RemoteAddr())
	}
	nc.Close()
	return nil, fmt.Errorf("%w: TCPd at %s answered %q, not ok or ne", ipc.ErrBadData, nc.RemoteAddr(), answer)
}

// tcpdAsk writes the service name and reads the two-byte answer.
func tcpdAsk(nc net.Conn, service string) ([]byte, error) {
	if _, err := nc.Write([]byte(service)); err != nil {
		return nil, fmt.Errorf("%w: TCPd at %s: %v", ipc.ErrRefused, nc.RemoteAddr(), err)
	}
	answer := make([]byte, 2)
	if _, err := io.ReadFull(nc, answer); err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return nil, fmt.Errorf("%w: TCPd at %s did not answer", ipc.ErrTimeout, nc.RemoteAddr())
		}
		return nil, fmt.Errorf("%w: TCPd at %s closed without answering", ipc.ErrRefused, nc.RemoteAddr())
	}
	return answer, nil
}

// ParseTCPdName reads the service name out of a TCPd client's first
// write. The name ends at the first newline or NUL, or with the write; a
// "\r" before the newline is dropped. What follows the end is returned as
// rest: the first frames of a client that did not wait for the answer.
func ParseTCPdName(first []byte) (name string, rest []byte, err error) {
	end := bytes.IndexAny(first, "\n\x00")
	raw := first
	if end >= 0 {
		raw, rest = first[:end], first[end+1:]
	}
	raw = bytes.TrimSuffix(raw, []byte("\r"))
	if err := ipc.CheckName(string(raw)); err != nil {
		return "", nil, fmt.Errorf("%w: TCPd client: %v", ipc.ErrBadData, err)
	}
	return string(raw), rest, nil
}

// readTCPdName reads a TCPd client's first write (one read, bounded).
func readTCPdName(nc net.Conn) (string, []byte, error) {
	nc.SetReadDeadline(time.Now().Add(tcpdTimeout))
	defer nc.SetReadDeadline(time.Time{})
	buf := make([]byte, MaxTCPdName)
	n, err := nc.Read(buf)
	if n == 0 {
		if err == nil || err == io.EOF {
			return "", nil, fmt.Errorf("%w: TCPd client sent no service name", ipc.ErrBadData)
		}
		return "", nil, fmt.Errorf("TCPd client: %w", err)
	}
	return ParseTCPdName(buf[:n])
}

// serveTCPd answers one TCPd client on nc: it reads the service name,
// connects to that local service (never through IPC_NETWORK) and answers
// "ok", or "ne" and closes. It returns the two ends to relay.
func serveTCPd(ctx context.Context, nc net.Conn, opts EndpointOptions) (client, service *ipc.Conn, name string, err error) {
	name, rest, err := readTCPdName(nc)
	if err != nil {
		tcpdRefuse(nc)
		return nil, nil, name, err
	}
	service, err = ipc.Dial(ctx, name, ipc.DialOptions{RunDir: opts.RunDir, MaxSize: opts.MaxSize, TrustOwners: opts.TrustOwners})
	if err != nil {
		tcpdRefuse(nc)
		return nil, nil, name, err
	}
	nc.SetWriteDeadline(time.Now().Add(tcpdTimeout))
	_, err = nc.Write(tcpdOK)
	nc.SetWriteDeadline(time.Time{})
	if err != nil {
		nc.Close()
		service.Close()
		return nil, nil, name, fmt.Errorf("TCPd client left before the answer: %w", err)
	}
	if len(rest) > 0 {
		nc = &prefixConn{Conn: nc, head: bytes.Clone(rest)}
	}
	return ipc.NewConn(nc, opts.MaxSize), service, name, nil
}

// tcpdRefuse answers "ne" and closes.
func tcpdRefuse(nc net.Conn) {
	nc.SetWriteDeadline(time.Now().Add(time.Second))
	nc.Write(tcpdNE)
	nc.Close()
}

// prefixConn is a stream whose first bytes were already read.
type prefixConn struct {
	net.Conn
	head []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.head) > 0 {
		n := copy(p, c.head)
		c.head = c.head[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

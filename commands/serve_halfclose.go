package commands

import (
	"sync"

	"github.com/ipcctl/ipcctl/ipc"
)

// endingClient is a network client that may end its side of the
// connection (a shell pipe at its end) and still await replies: serve
// learns of it from Ended, after Sent messages, not from an end of stream.
type endingClient interface {
	Ended() <-chan struct{}
	Sent() int64
}

// watchEnd calls ended with the number of messages client c sent once it
// has ended its side; never for a local client, nor once c is closed.
func watchEnd(c *ipc.Conn, ended func(sent int64)) {
	ec, ok := c.NetConn().(endingClient)
	if !ok {
		return
	}
	go func() {
		select {
		case <-ec.Ended():
			ended(ec.Sent())
		case <-c.Done():
		}
	}()
}

// clientEnd counts a client's messages against the number it sent before
// ending its side, to tell when the last of them has arrived.
type clientEnd struct {
	mu       sync.Mutex
	received int64
	sent     int64 // -1 while the client has not ended its side
}

func newClientEnd() *clientEnd { return &clientEnd{sent: -1} }

// message counts a message received, and reports whether it was the last.
func (e *clientEnd) message() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.received++
	return e.sent >= 0 && e.received == e.sent
}

// ended records that the client ended its side after sent messages, and
// reports whether they have all been received.
func (e *clientEnd) ended(sent int64) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sent = sent
	return e.received >= sent
}

// allReceived reports whether the client ended its side and all it sent
// has been received.
func (e *clientEnd) allReceived() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sent >= 0 && e.received >= e.sent
}

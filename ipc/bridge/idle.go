package bridge

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
)

// idleWatch closes both ends of a pair once no message has passed either
// way for its timeout. Activity is a time stored per message, and one
// timer per pair looks at it only when it could have run out.
type idleWatch struct {
	timeout time.Duration
	last    atomic.Int64 // Unix nanoseconds of the last message
	fired   atomic.Bool
	timer   *time.Timer
}

// watchIdle starts watching the pair of a and to.
func watchIdle(timeout time.Duration, a, to ipc.MessageConn) *idleWatch {
	w := &idleWatch{timeout: timeout}
	w.last.Store(time.Now().UnixNano())
	w.timer = time.AfterFunc(timeout, func() { w.check(a, to) })
	return w
}

// check closes the pair if it has been idle for the timeout, or looks
// again when it could be.
func (w *idleWatch) check(a, to ipc.MessageConn) {
	quiet := time.Since(time.Unix(0, w.last.Load()))
	if quiet < w.timeout {
		w.timer.Reset(w.timeout - quiet)
		return
	}
	w.fired.Store(true)
	a.Close()
	to.Close()
}

// stop ends the watch.
func (w *idleWatch) stop() { w.timer.Stop() }

// err says why the pair ended, when the watch ended it.
func (w *idleWatch) err() error {
	if !w.fired.Load() {
		return nil
	}
	return fmt.Errorf("%w: no message passed either way for %v; pair closed", ipc.ErrTimeout, w.timeout)
}

// active is one end of a watched pair: each message read from it or
// written to it is activity.
type active struct {
	ipc.MessageConn
	w *idleWatch
}

func (c *active) ReadMessage() ([]byte, error) {
	p, err := c.MessageConn.ReadMessage()
	if err == nil {
		c.w.last.Store(time.Now().UnixNano())
	}
	return p, err
}

func (c *active) WriteMessage(p []byte) error {
	err := c.MessageConn.WriteMessage(p)
	if err == nil {
		c.w.last.Store(time.Now().UnixNano())
	}
	return err
}

// CloseWrite half-closes the end, when it can be.
func (c *active) CloseWrite() error {
	if cw, ok := c.MessageConn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

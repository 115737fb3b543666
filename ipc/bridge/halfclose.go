package bridge

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
)

// writeError is a failure to pass a message on, as opposed to a failure
// to read one.
type writeError struct{ err error }

func (e writeError) Error() string { return e.err.Error() }
func (e writeError) Unwrap() error { return e.err }

// passBoth relays between a and to until either ends, then closes both.
// When a side ends cleanly and HalfClose is set, the other is half-closed
// and what it still sends is passed on until it ends. Else, with Linger
// set, what the other side still sends is passed on until it ends or
// stays silent for Linger, as LibIPC peers cannot half-close. It returns
// the first error that was not a clean end.
func (b *Bridge) passBoth(ctx context.Context, a, to ipc.MessageConn) error {
	var closed atomic.Bool
	var once sync.Once
	closeBoth := func() {
		once.Do(func() {
			closed.Store(true)
			a.Close()
			to.Close()
		})
	}
	defer closeBoth()
	defer context.AfterFunc(ctx, closeBoth)()
	type end struct {
		err error
		dst ipc.MessageConn // where the direction that ended wrote
	}
	ends := make(chan end, 2)
	errc := make(chan error, 2)
	activity := make(chan struct{}, 1)
	go func() { ends <- end{pass(a, to, activity), to} }()
	go func() { ends <- end{pass(to, a, activity), a} }()
	first := <-ends
	go func() { errc <- (<-ends).err }()
	var second error
	switch {
	case first.err == io.EOF && (b.HalfClose || isExchange(first.dst)) && closeWrite(first.dst):
		second = <-errc // the other side ends it, as it would a direct connection
	case first.err != io.EOF || b.Linger <= 0:
		closeBoth()
		<-errc
		return cleanEnd(first.err)
	default:
		second = b.linger(errc, activity, closeBoth)
	}
	var we writeError
	if closed.Load() || errors.As(second, &we) {
		return nil // silence, ctx, or a side already gone: a clean end
	}
	return cleanEnd(second)
}

// isExchange reports whether c is one request waiting for its reply (an
// HTTP request), which cannot wait for more once the other side ended.
func isExchange(c ipc.MessageConn) bool {
	for {
		switch w := c.(type) {
		case *tap:
			c = w.MessageConn
		case *active:
			c = w.MessageConn
		case *HTTPConn:
			return true
		default:
			return false
		}
	}
}

// closeWrite half-closes c when it can, and reports whether it did.
func closeWrite(c ipc.MessageConn) bool {
	cw, ok := c.(interface{ CloseWrite() error })
	return ok && cw.CloseWrite() == nil
}

// linger waits for the direction still running to end, closing both
// sides after Linger without a message.
func (b *Bridge) linger(errc <-chan error, activity <-chan struct{}, closeBoth func()) error {
	t := time.NewTimer(b.Linger)
	defer t.Stop()
	for {
		select {
		case err := <-errc:
			return err
		case <-activity:
			t.Reset(b.Linger)
		case <-t.C:
			closeBoth()
		}
	}
}

// cleanEnd hides the ways a pair ends normally.
func cleanEnd(err error) error {
	if err == nil || err == io.EOF || errors.Is(err, ipc.ErrClosed) {
		return nil
	}
	return err
}

// pass copies messages from src to dst one at a time, so that a slow dst
// slows src down, and signals activity after each one.
func pass(src, dst ipc.MessageConn, activity chan<- struct{}) error {
	for {
		p, err := src.ReadMessage()
		if err != nil {
			return err
		}
		if err := dst.WriteMessage(p); err != nil {
			return writeError{err}
		}
		select {
		case activity <- struct{}{}:
		default:
		}
	}
}

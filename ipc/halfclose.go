package ipc

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// writeError is a failure to pass a message on, as opposed to a failure
// to read one.
type writeError struct{ err error }

func (e writeError) Error() string { return e.err.Error() }
func (e writeError) Unwrap() error { return e.err }

// passBoth relays between a and to until either ends, then closes both.
// When a side ends cleanly and Linger is set, what the other side still
// sends is passed on until it ends or stays silent for Linger, as
// LibIPC peers cannot half-close. It returns the first error that was
// not a clean end.
func (b *Bridge) passBoth(ctx context.Context, a, to MessageConn) error {
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
	errc := make(chan error, 2)
	activity := make(chan struct{}, 1)
	go func() { errc <- pass(a, to, activity) }()
	go func() { errc <- pass(to, a, activity) }()
	first := <-errc
	if first != io.EOF || b.Linger <= 0 {
		closeBoth()
		<-errc
		return cleanEnd(first)
	}
	second := b.linger(errc, activity, closeBoth)
	var we writeError
	if closed.Load() || errors.As(second, &we) {
		return nil // silence, ctx, or a side already gone: a clean end
	}
	return cleanEnd(second)
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
	if err == nil || err == io.EOF || errors.Is(err, ErrClosed) {
		return nil
	}
	return err
}

// pass copies messages from src to dst one at a time, so that a slow dst
// slows src down, and signals activity after each one.
func pass(src, dst MessageConn, activity chan<- struct{}) error {
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

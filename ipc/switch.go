package ipc

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
)

// Switch pairs two MessageConns so that messages flow both ways without
// the caller (LibIPC's ipc_add_switch). Either end may be an adapter that
// turns another framing into messages and back (lines, raw bytes, JSON,
// WebSocket): the adapter plays the part of LibIPC's switch callbacks.
type Switch struct {
	id   uint64
	a, b MessageConn
	once sync.Once
	err  error
}

var lastSwitchID atomic.Uint64

// ID returns the switch's number, unique in this process.
func (s *Switch) ID() uint64 { return s.id }

// Ends returns the two paired connections.
func (s *Switch) Ends() (MessageConn, MessageConn) { return s.a, s.b }

// Err returns why the switch ended: nil for a clean end of stream.
func (s *Switch) Err() error { return s.err }

// close ends both sides once, keeping the first cause.
func (s *Switch) close(err error) {
	s.once.Do(func() {
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, ErrClosed) {
			s.err = err
		}
		s.a.Close()
		s.b.Close()
	})
}

// AddSwitch starts passing messages between a and b. With
// Options.SwitchEvents the loop yields EventSwitchRx for each message read
// and EventSwitchTx for each message written (Conn is set when the end is
// a *Conn); in every case it yields one EventDisconnection, with Switch
// set, when the pair ends.
func (l *Loop) AddSwitch(a, b MessageConn) *Switch {
	s := &Switch{id: lastSwitchID.Add(1), a: a, b: b}
	var report func(t EventType, end MessageConn, p []byte)
	if l.opts.SwitchEvents {
		report = func(t EventType, end MessageConn, p []byte) {
			c, _ := end.(*Conn)
			l.deliver(Event{Type: t, Switch: s, Conn: c, Payload: p})
		}
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		s.run(report)
		l.deliver(Event{Type: EventDisconnection, Switch: s, Err: s.err})
	}()
	return s
}

// run relays both directions until one ends, then closes both.
func (s *Switch) run(report func(EventType, MessageConn, []byte)) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.close(pump(s.a, s.b, report)) }()
	go func() { defer wg.Done(); s.close(pump(s.b, s.a, report)) }()
	wg.Wait()
}

// pump copies messages from src to dst one at a time, so a slow dst
// slows src down instead of filling memory.
func pump(src, dst MessageConn, report func(EventType, MessageConn, []byte)) error {
	for {
		p, err := src.ReadMessage()
		if err != nil {
			return err
		}
		if report != nil {
			report(EventSwitchRx, src, p)
		}
		if err := dst.WriteMessage(p); err != nil {
			return err
		}
		if report != nil {
			report(EventSwitchTx, dst, p)
		}
	}
}

// Relay passes messages between a and b until either ends or ctx is done,
// then closes both. onRx, when not nil, sees every message with the end it
// came from. It returns nil for a clean end of stream.
func Relay(ctx context.Context, a, b MessageConn, onRx func(from MessageConn, p []byte)) error {
	s := &Switch{id: lastSwitchID.Add(1), a: a, b: b}
	stop := context.AfterFunc(ctx, func() { s.close(ctx.Err()) })
	defer stop()
	var report func(EventType, MessageConn, []byte)
	if onRx != nil {
		report = func(t EventType, end MessageConn, p []byte) {
			if t == EventSwitchRx {
				onRx(end, p)
			}
		}
	}
	s.run(report)
	return s.err
}

package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
)

// handlerQueue bounds the messages waiting for a handler slot. Past it the
// event goroutine waits, which makes the engine stop reading the clients.
const handlerQueue = 1024

// handlerMode runs --handler once per message. Each run is a goroutine
// that waits for a slot (--max-procs), runs the handler, then waits for
// the previous run of the same client before it answers, so replies keep
// the order of the messages.
type handlerMode struct {
	s      *server
	slots  chan struct{} // one per running handler
	queued chan struct{} // one per run not yet ended
	ctx    context.Context
	cancel context.CancelFunc
	last   map[uint64]chan struct{} // each client's latest run, closed once it answered
	wg     sync.WaitGroup
}

func newHandlerMode(s *server) *handlerMode {
	ctx, cancel := context.WithCancel(context.Background())
	return &handlerMode{
		s:      s,
		slots:  make(chan struct{}, s.cfg.maxProcs),
		queued: make(chan struct{}, handlerQueue),
		ctx:    ctx,
		cancel: cancel,
		last:   make(map[uint64]chan struct{}),
	}
}

func (h *handlerMode) connected(*ipc.Conn) {}

func (h *handlerMode) disconnected(c *ipc.Conn) {
	delete(h.last, c.ID()) // its runs still hold their order
}

// message starts a run of the handler for p.
func (h *handlerMode) message(c *ipc.Conn, p []byte) {
	h.queued <- struct{}{}
	prev := h.last[c.ID()]
	done := make(chan struct{})
	h.last[c.ID()] = done
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		defer func() { <-h.queued }()
		defer close(done)
		reply, err := h.run(c, p)
		if prev != nil {
			<-prev
		}
		h.answer(c, reply, err)
	}()
}

// run runs the handler on p once a slot is free, and returns its output.
func (h *handlerMode) run(c *ipc.Conn, p []byte) ([]byte, error) {
	select {
	case h.slots <- struct{}{}:
	case <-h.ctx.Done():
		return nil, errors.New("not run: the service is stopping")
	}
	defer func() { <-h.slots }()
	ctx, cancel := h.ctx, context.CancelFunc(func() {})
	if d := h.s.cfg.handlerTimeout; d > 0 {
		ctx, cancel = context.WithTimeout(ctx, d)
	}
	defer cancel()
	cmd := h.s.shellCommand(ctx, h.s.cfg.handler, c, "IPCMSGSIZE="+strconv.Itoa(len(p)))
	cmd.Stdin = bytes.NewReader(p)
	out := &cappedBuffer{max: h.s.cfg.maxSize, over: cancel}
	cmd.Stdout = out
	err := cmd.Run()
	switch {
	case out.overflow:
		return nil, &endedError{fmt.Sprintf("handler wrote a reply over --max-size (%d bytes); killed", h.s.cfg.maxSize), err}
	case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return nil, &endedError{fmt.Sprintf("handler still running after --handler-timeout %s; killed", h.s.cfg.handlerTimeout), err}
	}
	return out.buf.Bytes(), err
}

// answer sends a handler's reply, or reports its failure and disconnects
// the client once its earlier replies are written, so that a client
// waiting for the reply learns at once that none will come.
func (h *handlerMode) answer(c *ipc.Conn, reply []byte, err error) {
	if err == nil {
		if len(reply) > 0 {
			c.Schedule(reply) // an error here means the client left
		}
		return
	}
	if h.s.stopping.Load() && h.ctx.Err() != nil {
		return // ended by the shutdown
	}
	h.s.processFailure(c, "handler", err)
	closeAfterFlush(c)
}

// stop lets the running handlers end until ctx ends, then kills them.
func (h *handlerMode) stop(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	h.cancel()
	select {
	case <-done:
	case <-time.After(exitGrace + time.Second):
	}
}

// cappedBuffer holds a handler's output up to max bytes. Past it, it calls
// over (which kills the handler) and drops the rest.
type cappedBuffer struct {
	buf      bytes.Buffer // not embedded: io.Copy would use its ReadFrom
	max      int
	over     func()
	overflow bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if b.overflow || b.buf.Len()+len(p) > b.max {
		if !b.overflow {
			b.overflow = true
			b.over()
		}
		return len(p), nil
	}
	return b.buf.Write(p)
}

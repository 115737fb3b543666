package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"sync"

	"github.com/ipcctl/ipcctl/ipc"
)

// What one client may have waiting for a handler. Messages are read from
// every client as they come, so that a client's backlog never keeps the
// others' messages unread; a client past these bounds is closed instead,
// as a client that does not read its replies is.
const (
	handlerBacklog      = 16384
	handlerBacklogBytes = ipc.DefaultQueueBytes
)

// handlerMode runs --handler once per message. Each client's messages
// wait in a queue of its own, and a free slot (--max-procs) goes to the
// clients in turns, so that one client's backlog does not hold the others
// up. The runs of one client may overlap; their replies are sent in the
// order of its messages. All its state is under mu.
type handlerMode struct {
	s        *server
	mu       sync.Mutex
	clients  map[uint64]*handlerClient
	turns    []*handlerClient   // clients with messages waiting, in turn order
	running  map[*exec.Cmd]bool // the handlers running, for kill
	active   int                // runs dispatched and not yet ended
	stopping bool               // shutdown: no run starts any more
	killed   bool               // shutdown: the grace is over, handlers are killed
	reported bool               // shutdown: what is unanswered is reported
	idle     chan struct{}      // closed once stopping and no run is active
	isIdle   bool               // idle is closed
}

// handlerClient is one client's messages in the handler mode.
type handlerClient struct {
	conn    *ipc.Conn
	waiting [][]byte      // not run yet, in order
	bytes   int           // of waiting
	runs    []*handlerRun // started and not answered, in order
	queued  bool          // it is in turns
	failed  bool          // a run failed: no more replies are sent
	over    bool          // closed for its backlog: its messages are dropped
	lost    int           // messages the shutdown left unanswered
	gone    bool          // disconnected
	end     *clientEnd    // a network client's end of its side
	closing bool          // closed once answered, its side having ended
}

// handlerRun is one run of the handler and how it ended.
type handlerRun struct {
	done  bool
	reply []byte
	err   error
}

func newHandlerMode(s *server) *handlerMode {
	return &handlerMode{
		s:       s,
		clients: make(map[uint64]*handlerClient),
		running: make(map[*exec.Cmd]bool),
		idle:    make(chan struct{}),
	}
}

// connected watches a network client's end of its side: once every
// message it sent is answered, it is closed, as it awaits nothing else.
func (h *handlerMode) connected(c *ipc.Conn) {
	watchEnd(c, func(sent int64) {
		h.mu.Lock()
		defer h.mu.Unlock()
		hc := h.client(c)
		if hc.end.ended(sent) {
			h.closeIfAnswered(hc)
		}
	})
}

// client returns c's state, made on first use. The caller holds mu.
func (h *handlerMode) client(c *ipc.Conn) *handlerClient {
	hc := h.clients[c.ID()]
	if hc == nil {
		hc = &handlerClient{conn: c, end: newClientEnd()}
		h.clients[c.ID()] = hc
	}
	return hc
}

// closeIfAnswered closes a client that ended its side once all it sent
// has arrived and been answered. The caller holds mu.
func (h *handlerMode) closeIfAnswered(hc *handlerClient) {
	if hc.closing || hc.gone || len(hc.waiting) > 0 || len(hc.runs) > 0 || !hc.end.allReceived() {
		return
	}
	hc.closing = true
	go closeAfterFlush(hc.conn)
}

// disconnected keeps the messages the client sent: they are still run.
func (h *handlerMode) disconnected(c *ipc.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if hc := h.clients[c.ID()]; hc != nil {
		hc.gone = true
		h.forget(hc)
	}
}

// message queues p for a run of the handler. A client past its backlog is
// closed.
func (h *handlerMode) message(c *ipc.Conn, p []byte) {
	if n := h.queue(c, p); n > 0 {
		h.s.report(c, fmt.Sprintf("%d messages wait for a handler, the most a client may have; closing the client", n))
		c.Close()
	}
}

// queue adds p to c's messages and starts what can start. It returns the
// length of c's backlog when p does not fit in it, 0 otherwise.
func (h *handlerMode) queue(c *ipc.Conn, p []byte) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	hc := h.client(c)
	hc.end.message()
	switch {
	case hc.over:
		return 0 // read before the client was closed: dropped with it
	case h.stopping:
		hc.lost++ // reported by stop, with the client's other messages not run
		return 0
	case len(hc.waiting) >= handlerBacklog || hc.bytes > 0 && hc.bytes+len(p) > handlerBacklogBytes:
		hc.over = true
		return len(hc.waiting)
	}
	hc.waiting = append(hc.waiting, p)
	hc.bytes += len(p)
	if !hc.queued {
		hc.queued = true
		h.turns = append(h.turns, hc)
	}
	h.dispatch()
	return 0
}

// dispatch starts runs while slots are free, taking the clients in turns.
// The caller holds mu.
func (h *handlerMode) dispatch() {
	for !h.stopping && len(h.turns) > 0 && h.active < h.s.cfg.maxProcs {
		hc := h.turns[0]
		h.turns = h.turns[1:]
		p := hc.waiting[0]
		hc.waiting = hc.waiting[1:]
		hc.bytes -= len(p)
		if len(hc.waiting) > 0 {
			h.turns = append(h.turns, hc) // its next message waits its turn
		} else {
			hc.queued = false
			hc.waiting = nil
		}
		r := &handlerRun{}
		hc.runs = append(hc.runs, r)
		h.active++
		go h.execute(hc, r, p)
	}
}

// execute runs the handler on p, then answers what can be answered.
func (h *handlerMode) execute(hc *handlerClient, r *handlerRun, p []byte) {
	reply, err := h.run(hc.conn, p)
	h.mu.Lock()
	h.active--
	r.done, r.reply, r.err = true, reply, err
	failed := h.answer(hc)
	h.closeIfAnswered(hc)
	h.dispatch()
	h.settle()
	h.mu.Unlock()
	if failed != nil {
		h.s.processFailure(hc.conn, "handler", failed)
		closeAfterFlush(hc.conn)
	}
}

// answer sends the replies of hc's runs that ended, in the order of its
// messages, up to the first run still going. It returns the error of a
// run that failed: the client is then closed after its earlier replies,
// and no later reply is sent. The caller holds mu; sending under it keeps
// the order, and never waits (a client that does not read is closed).
func (h *handlerMode) answer(hc *handlerClient) error {
	var failed error
	for len(hc.runs) > 0 && hc.runs[0].done {
		r := hc.runs[0]
		hc.runs = hc.runs[1:]
		switch {
		case hc.failed, h.reported:
			// The client is closed after an earlier failure, or the
			// shutdown has told it what it did not get.
		case hc.lost > 0 || h.killed && r.err != nil:
			// The shutdown killed this run or an earlier one: a later
			// reply would be taken for the earlier's. stop reports them.
			hc.lost++
		case r.err != nil:
			hc.failed, failed = true, r.err
		case r.reply != nil:
			hc.conn.Schedule(r.reply) // an error here means the client left
		}
	}
	h.forget(hc)
	return failed
}

// forget drops a client that left once it has nothing waiting or running.
// The caller holds mu.
func (h *handlerMode) forget(hc *handlerClient) {
	if hc.gone && len(hc.waiting) == 0 && len(hc.runs) == 0 && hc.lost == 0 {
		delete(h.clients, hc.conn.ID())
	}
}

// run runs the handler on p and returns its output.
func (h *handlerMode) run(c *ipc.Conn, p []byte) ([]byte, error) {
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if d := h.s.cfg.handlerTimeout; d > 0 {
		ctx, cancel = context.WithTimeout(ctx, d)
	}
	defer cancel()
	size := "IPCMSGSIZE=" + strconv.Itoa(len(p))
	out := &cappedBuffer{max: h.s.cfg.maxSize, over: cancel}
	var pidfd int
	cmd := h.s.shellCommand(ctx, h.s.cfg.handler, c, size)
	err := h.start(cmd, p, out, &pidfd)
	if again, ok := h.s.shellAgain(ctx, err, h.s.cfg.handler, c, size); ok {
		cmd = again
		err = h.start(cmd, p, out, &pidfd)
	}
	if err == nil {
		waitExited(pidfd)
		err = cmd.Wait()
		h.mu.Lock()
		delete(h.running, cmd)
		h.mu.Unlock()
	}
	switch {
	case out.overflow:
		return nil, &endedError{fmt.Sprintf("handler wrote a reply over --max-size (%d bytes); killed", h.s.cfg.maxSize), err}
	case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return nil, &endedError{fmt.Sprintf("handler still running after --handler-timeout %s; killed", h.s.cfg.handlerTimeout), err}
	}
	return handlerReply(out.buf.Bytes(), h.s.cfg.raw), err
}

// handlerInput is what a handler reads for message p: the message and a
// newline, so that read and while read see it; with --raw, p exactly.
func handlerInput(p []byte, raw bool) []byte {
	if raw {
		return p
	}
	return append(p[:len(p):len(p)], '\n')
}

// handlerReply is the reply for a handler's output: the output without one
// trailing newline, as $(...) takes it, so "echo ok" answers "ok"; with
// --raw, the output exactly. No output is no reply (nil); an output of a
// lone newline is an empty reply.
func handlerReply(out []byte, raw bool) []byte {
	if raw || len(out) == 0 {
		return out
	}
	return bytes.TrimSuffix(out, []byte("\n"))
}

// start starts cmd on message p, its output to out and its pidfd in
// *pidfd, unless the shutdown has killed the handlers already,
// and counts it as running, so that stop can kill it.
func (h *handlerMode) start(cmd *exec.Cmd, p []byte, out *cappedBuffer, pidfd *int) error {
	cmd.Stdin = bytes.NewReader(handlerInput(p, h.s.cfg.raw))
	cmd.Stdout = out
	askPidfd(cmd, pidfd)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.killed {
		return errKilled
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	h.running[cmd] = true
	return nil
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

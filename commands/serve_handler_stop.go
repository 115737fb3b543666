package commands

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"syscall"
	"time"

	"github.com/ipcctl/ipcctl/format"
)

// errKilled is a run that the shutdown killed before it started.
var errKilled = errors.New("killed at shutdown")

// stop ends the handler mode on shutdown. No run starts any more; the
// running handlers may finish until grace ends, then they are killed.
// Each client whose messages were not all answered is told, before it is
// closed: an error event says how many were not.
func (h *handlerMode) stop(grace, final context.Context) {
	h.mu.Lock()
	h.stopping = true
	h.settle()
	h.mu.Unlock()
	select {
	case <-h.idle:
	case <-grace.Done():
		h.kill()
		select {
		case <-h.idle:
		case <-final.Done():
		}
	}
	h.reportUnanswered(final)
}

// settle closes idle once the shutdown has begun and no run is active.
// The caller holds mu.
func (h *handlerMode) settle() {
	if h.stopping && h.active == 0 && !h.isIdle {
		h.isIdle = true
		close(h.idle)
	}
}

// kill ends the handlers still running: the grace is over.
func (h *handlerMode) kill() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.killed = true
	for cmd := range h.running {
		signalGroup(cmd, syscall.SIGKILL)
	}
}

// reportUnanswered prints an error event for each client with messages
// that the shutdown left without their run or their reply.
func (h *handlerMode) reportUnanswered(final context.Context) {
	h.mu.Lock()
	h.reported = true
	type unanswered struct {
		hc *handlerClient
		n  int
	}
	var lost []unanswered
	for _, hc := range h.clients {
		if n := len(hc.waiting) + len(hc.runs) + hc.lost; n > 0 && !hc.failed {
			lost = append(lost, unanswered{hc, n})
		}
	}
	h.mu.Unlock()
	sort.Slice(lost, func(i, j int) bool { return lost[i].hc.conn.ID() < lost[j].hc.conn.ID() })
	for _, u := range lost {
		msg := fmt.Sprintf("the service is stopping: %d messages not handled", u.n)
		h.s.reportWithin(final, u.hc.conn, msg, format.Field{Key: "unhandled", Value: u.n})
	}
}

// killWait is how long the shutdown waits for killed processes to be
// reaped, and for its last events to be printed, once the grace is over.
const killWait = 500 * time.Millisecond

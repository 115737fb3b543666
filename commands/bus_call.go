package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
	"github.com/ipcctl/ipcctl/ipc/bus"
)

// caller makes the calls of send -w on a bus, one after another.
type caller struct {
	cl      *bus.Client
	name    string
	out     *busPrinter
	stderr  io.Writer
	each    bool // --each: every member's answer
	timeout time.Duration
}

// pendingCall is one call in flight: the callees the bus delivered it to
// that have not answered yet, and what became of the others.
type pendingCall struct {
	id      uint64
	callees map[string]bool // nil until the bus said whom it called
	more    bool            // the bus may name more callees (other buses')
	lost    []string
	failed  int
	done    bool // without --each: the first answer came
}

// call sends p as a call to t and waits until it is resolved: answered,
// or every callee answered or left.
func (k *caller) call(ctx context.Context, t busTarget, p []byte) error {
	pc := &pendingCall{id: k.cl.NewCall()}
	h := t.header()
	h.Call = pc.id
	// With --each the bus says whom it called: the caller then waits for
	// exactly those. Without, the first answer ends the call, and the bus
	// says when no callee is left that could answer.
	h.Each = k.each && t.group != ""
	if t.to != "" {
		pc.callees = map[string]bool{t.to: true}
	}
	if err := k.cl.Send(&h, p); err != nil {
		return err
	}
	for !pc.resolved() {
		h, body, err := k.cl.Recv(ctx)
		if err != nil {
			return k.recvError(ctx, pc, err)
		}
		if err := k.handle(pc, &h, body); err != nil {
			return err
		}
	}
	if err := k.out.Flush(); err != nil {
		return err
	}
	return k.outcome(pc)
}

// resolved reports whether nothing more is awaited for the call.
func (pc *pendingCall) resolved() bool {
	return pc.done || pc.callees != nil && len(pc.callees) == 0 && !pc.more
}

// handle deals with one envelope while pc is pending. It returns the error
// that ends the call at once, if any.
func (k *caller) handle(pc *pendingCall, h *bus.Header, body []byte) error {
	switch h.Op {
	case "error":
		return errorOf(k.name, h)
	case "dropped":
		return k.out.dropped(h)
	case "undeliverable":
		return undeliverableError(h) // calls go one at a time: it is this one
	}
	if h.Call != pc.id {
		return nil // an answer of an earlier call, from a slower member
	}
	switch h.Op {
	case "calls":
		// A bus joined to others names the callees of each bus in turn,
		// with more set but the last time.
		if pc.callees == nil {
			pc.callees = make(map[string]bool, len(h.Callees))
		}
		for _, a := range h.Callees {
			pc.callees[a] = true
		}
		pc.more = h.More
	case "answer":
		return k.answered(pc, h, body)
	case "lost":
		return k.lost(pc, h)
	}
	return nil
}

// answered prints an answer, or reports an error answer.
func (k *caller) answered(pc *pendingCall, h *bus.Header, body []byte) error {
	delete(pc.callees, h.From)
	if !k.each {
		pc.done = true
		if h.Error != "" {
			return callFailed(h)
		}
		return k.out.message(h, body)
	}
	if h.Error != "" {
		pc.failed++
		k.out.Flush()
		fmt.Fprintf(k.stderr, "ipcctl: error: %v\n", callFailed(h))
		return nil
	}
	if err := k.out.message(h, body); err != nil {
		return err
	}
	return k.out.Flush()
}

// lost notes a callee that left before answering: the call fails at once
// when it was the last one that could answer.
func (k *caller) lost(pc *pendingCall, h *bus.Header) error {
	if pc.callees != nil && !pc.callees[h.From] {
		return nil
	}
	delete(pc.callees, h.From)
	pc.lost = append(pc.lost, h.From)
	if !k.each {
		if len(pc.callees) == 0 {
			return lostError(h)
		}
		return nil
	}
	k.out.Flush()
	fmt.Fprintf(k.stderr, "ipcctl: error: %v\n", lostError(h))
	return nil
}

// outcome is the status of a resolved call with --each: 69 when a member
// left before answering, 1 when one answered with an error. Both were
// reported already.
func (k *caller) outcome(pc *pendingCall) error {
	switch {
	case !k.each:
		return nil
	case len(pc.lost) > 0:
		return Silent(unavailable("%d members left before answering", len(pc.lost)))
	case pc.failed > 0:
		return Silent(fmt.Errorf("%d members answered with an error", pc.failed))
	}
	return nil
}

// recvError explains a wait for answers that ended without them.
func (k *caller) recvError(ctx context.Context, pc *pendingCall, err error) error {
	k.out.Flush()
	switch {
	case errors.Is(err, ipc.ErrTimeout), errors.Is(ctx.Err(), context.DeadlineExceeded):
		if k.each && len(pc.callees) > 0 {
			return fmt.Errorf("%w: no answer from %s within --timeout %s", ipc.ErrTimeout, waitingFor(pc), k.timeout)
		}
		return fmt.Errorf("%w: no answer within --timeout %s", ipc.ErrTimeout, k.timeout)
	case err == io.EOF || errors.Is(err, ipc.ErrClosed):
		return unavailable("bus %s closed the connection before the answer", k.name)
	}
	return err
}

// waitingFor lists the callees that have not answered.
func waitingFor(pc *pendingCall) string {
	var addrs []string
	for a := range pc.callees {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	return strings.Join(addrs, ", ")
}

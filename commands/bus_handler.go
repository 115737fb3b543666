package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"

	"github.com/ipcctl/ipcctl/ipc/bus"
)

// busHandler answers the calls a subscriber receives by running --handler
// once per call: the call's payload on its stdin, its stdout the answer.
// A handler that fails answers with an error carrying its exit status, so
// that the caller never waits for its timeout. At most maxProcs run at
// once; past that, the subscriber stops reading the bus until one ends.
type busHandler struct {
	cl      *bus.Client
	name    string // the bus
	line    string // the --handler command line
	raw     bool
	maxSize int
	slots   chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
	sendMu  sync.Mutex // the answers of concurrent handlers
	wg      sync.WaitGroup
}

func newBusHandler(cl *bus.Client, name, line string, raw bool, maxSize, maxProcs int) *busHandler {
	ctx, cancel := context.WithCancel(context.Background())
	return &busHandler{cl: cl, name: name, line: line, raw: raw, maxSize: maxSize,
		slots: make(chan struct{}, maxProcs), ctx: ctx, cancel: cancel}
}

// call runs the handler for one call, once a slot is free, and answers it.
// It returns ctx's error when ctx ends first.
func (b *busHandler) call(ctx context.Context, h bus.Header, body []byte) error {
	select {
	case b.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer func() { <-b.slots }()
		answer, err := b.run(&h, body)
		b.answer(&h, answer, err)
	}()
	return nil
}

// run runs the handler on body and returns its output, less one trailing
// newline unless --raw.
func (b *busHandler) run(h *bus.Header, body []byte) ([]byte, error) {
	ctx, over := context.WithCancel(b.ctx)
	defer over()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", b.line)
	cmd.Env = append(os.Environ(), b.env(h, body)...)
	in := body
	if !b.raw {
		in = append(body[:len(body):len(body)], '\n')
	}
	cmd.Stdin = bytes.NewReader(in)
	out := &cappedBuffer{max: b.maxSize, over: over}
	cmd.Stdout = out
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return signalGroup(cmd, syscall.SIGTERM) }
	cmd.WaitDelay = exitGrace
	err := cmd.Run()
	if out.overflow {
		return nil, fmt.Errorf("handler wrote an answer over --max-size (%d bytes); killed", b.maxSize)
	}
	if err != nil {
		return nil, err
	}
	p := out.buf.Bytes()
	if !b.raw {
		p = bytes.TrimSuffix(p, []byte("\n"))
	}
	return p, nil
}

// env describes the call to the handler.
func (b *busHandler) env(h *bus.Header, body []byte) []string {
	env := []string{
		"IPCSERVICE=" + b.name,
		"IPCBUSADDR=" + b.cl.Addr(),
		"IPCBUSFROM=" + h.From,
		"IPCBUSCALL=" + strconv.FormatUint(h.Call, 10),
		"IPCMSGSIZE=" + strconv.Itoa(len(body)),
	}
	if h.Group != "" {
		env = append(env, "IPCBUSGROUP="+h.Group)
	}
	return env
}

// answer sends the handler's answer, or its failure with its exit status.
func (b *busHandler) answer(h *bus.Header, p []byte, err error) {
	a := bus.Header{Op: "answer", To: h.From, Call: h.Call}
	if err != nil {
		a.Error, a.Status = handlerFailure(err)
		p = nil
	}
	b.sendMu.Lock()
	defer b.sendMu.Unlock()
	if b.ctx.Err() != nil {
		return // stopping: the caller learns it from our disconnection
	}
	b.cl.Send(&a, p) // an error here means the bus is gone
}

// handlerFailure describes a failed handler: its error text and exit
// status (128 + the signal number when killed by a signal).
func handlerFailure(err error) (string, *int) {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return "handler: " + err.Error(), nil
	}
	text, _, _ := exitFields(err)
	status := ee.ExitCode()
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		status = 128 + int(ws.Signal())
	}
	return "handler " + text, &status
}

// wait waits for the running handlers to answer.
func (b *busHandler) wait() { b.wg.Wait() }

// stop kills the running handlers and waits for them.
func (b *busHandler) stop() {
	b.cancel()
	b.wg.Wait()
}

package commands

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
)

// execMode runs --exec once per client: the client's messages go to the
// process's stdin, what it writes to stdout goes back to the client.
type execMode struct {
	s     *server
	mu    sync.Mutex
	procs map[uint64]*clientProc
	wg    sync.WaitGroup
	// stopping is set by stop: a client that connects after it gets no
	// process.
	stopping bool
}

// clientProc is the process of one client.
type clientProc struct {
	conn   *ipc.Conn
	cmd    *exec.Cmd
	in     *inbox
	cancel context.CancelFunc // SIGTERM, then SIGKILL
	end    *clientEnd
	pidfd  int // of the process, until it has exited; -1 when none
}

func newExecMode(s *server) *execMode {
	if s.cfg.g.Verbose && s.cfg.lineBuffered && !s.cfg.raw && stdbufLib() == "" {
		fmt.Fprintln(s.stderr, "ipcctl: note: coreutils' libstdbuf.so was not found: a --exec process "+
			"that buffers its output to a pipe answers only when its buffer fills (see --line-buffered)")
	}
	return &execMode{s: s, procs: make(map[uint64]*clientProc)}
}

// connected starts the process of client c.
func (e *execMode) connected(c *ipc.Conn) {
	if err := e.start(c); err != nil {
		e.s.report(c, fmt.Sprintf("cannot run --exec command: %v", err))
		c.Close()
	}
}

// start starts the process of client c and the goroutines that serve it.
// It holds mu throughout, so that stop either sees the process or keeps
// it from starting.
func (e *execMode) start(c *ipc.Conn) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopping {
		c.Close() // accepted as the service stopped
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &clientProc{conn: c, in: newInbox(ipc.DefaultQueueBytes), cancel: cancel, end: newClientEnd()}
	stdin, stdout, err := e.startProc(ctx, p, e.s.shellCommand(ctx, e.s.cfg.exec, c))
	if cmd, ok := e.s.shellAgain(ctx, err, e.s.cfg.exec, c); ok {
		stdin, stdout, err = e.startProc(ctx, p, cmd)
	}
	if err != nil {
		cancel()
		return err
	}
	e.procs[c.ID()] = p
	// A network client that ends its side: the process's stdin is closed
	// once its last message is written, and its output still goes back.
	watchEnd(c, func(sent int64) {
		if p.end.ended(sent) {
			p.in.close()
		}
	})
	e.wg.Add(2)
	go func() {
		defer e.wg.Done()
		e.feed(p, stdin)
	}()
	go func() {
		defer e.wg.Done()
		e.relay(p, stdout)
	}()
	return nil
}

// startProc starts cmd as p's process, with the environment of --exec.
func (e *execMode) startProc(ctx context.Context, p *clientProc, cmd *exec.Cmd) (stdin, stdout *os.File, err error) {
	if e.s.cfg.lineBuffered && !e.s.cfg.raw {
		cmd.Env = lineBufferedEnv(cmd.Env)
	}
	p.cmd = cmd
	askPidfd(cmd, &p.pidfd)
	return startPiped(cmd)
}

// startPiped starts cmd with a pipe on its stdin and one on its stdout,
// and returns serve's ends. When it fails, every descriptor it made is
// closed: at descriptor exhaustion, a leaked pipe would make the next
// client fail too, and so on for ever.
func startPiped(cmd *exec.Cmd) (stdin, stdout *os.File, err error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, nil, err
	}
	cmd.Stdin, cmd.Stdout = inR, outW
	err = cmd.Start()
	inR.Close() // the child's ends: it has them now, or failed to start
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, nil, err
	}
	return inW, outR, nil
}

// message queues p for the process's stdin. A process that does not read
// while its queue fills up loses its client.
func (e *execMode) message(c *ipc.Conn, p []byte) {
	proc := e.proc(c)
	if proc == nil {
		return
	}
	if !proc.in.push(p) {
		// The messages already read from the client still come: they are
		// dropped with it, and the error is told once.
		proc.in.discard()
		e.s.report(c, "the --exec process does not read its stdin; closing the client")
		c.Close()
	}
	if proc.end.message() {
		proc.in.close()
	}
}

// disconnected closes the process's stdin once what the client sent is
// written, and ends the process if it is still running after exitGrace.
func (e *execMode) disconnected(c *ipc.Conn) {
	proc := e.proc(c)
	if proc == nil {
		return
	}
	proc.in.close()
	time.AfterFunc(exitGrace, proc.cancel) // no effect once it has exited
}

func (e *execMode) proc(c *ipc.Conn) *clientProc {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.procs[c.ID()]
}

// feed writes the client's messages to the process's stdin until the
// client leaves, then closes it.
func (e *execMode) feed(p *clientProc, stdin io.WriteCloser) {
	defer stdin.Close()
	w := bufio.NewWriterSize(stdin, 64<<10)
	var frame []byte
	for {
		batch, ok := p.in.popAll()
		if !ok {
			return
		}
		for _, m := range batch {
			if e.s.cfg.raw {
				frame = ipc.AppendFrame(frame[:0], m)
			} else {
				frame = append(append(frame[:0], m...), '\n')
			}
			w.Write(frame)
		}
		if w.Flush() != nil {
			p.in.discard() // the process closed its stdin: drop the rest
		}
	}
}

// relay sends what the process writes to its client, then waits for the
// process to exit, reports a failure, and disconnects the client once
// everything is written.
func (e *execMode) relay(p *clientProc, r *os.File) {
	done := make(chan error, 1)
	go func() {
		err := e.readOutput(p.conn, r)
		if err != nil {
			p.cancel() // it broke the protocol: end it
		}
		done <- err
	}()
	waitExited(p.pidfd)
	werr := p.cmd.Wait()
	// The process is gone; what it wrote is in the pipe, unless something
	// it started still holds the pipe open.
	var rerr error
	select {
	case rerr = <-done:
	case <-time.After(exitGrace):
		r.Close()
		rerr = <-done
	}
	r.Close()
	p.cancel()
	p.in.close() // ends feed
	e.mu.Lock()
	delete(e.procs, p.conn.ID())
	e.mu.Unlock()
	switch {
	case e.s.stopping.Load():
	case rerr != nil:
		e.s.report(p.conn, fmt.Sprintf("--exec process output: %v", rerr))
	case werr != nil:
		e.s.processFailure(p.conn, "--exec process", werr)
	}
	closeAfterFlush(p.conn)
}

// readOutput sends each line (each frame with --raw) of r to c.
func (e *execMode) readOutput(c *ipc.Conn, r io.Reader) error {
	max := e.s.cfg.maxSize
	if e.s.cfg.raw {
		fr := ipc.NewFrameReader(r, max)
		for {
			m, err := fr.ReadFrame()
			if err != nil {
				return outputEnd(err)
			}
			c.Schedule(m) // an error means the client left: keep reading
		}
	}
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := readLine(br, max)
		if errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("a line over --max-size (%d bytes)", max)
		}
		if len(line) > 0 || err == nil {
			c.Schedule(line)
		}
		if err != nil {
			return outputEnd(err)
		}
	}
}

// outputEnd turns the end of a process's output into nil.
func outputEnd(err error) error {
	if err == io.EOF || errors.Is(err, os.ErrClosed) {
		return nil
	}
	return err
}

// stop sends every process SIGTERM and waits for them to end until grace
// ends; those still running then are killed (SIGKILL), and waited for
// until final ends.
func (e *execMode) stop(grace, final context.Context) {
	e.mu.Lock()
	e.stopping = true // no process starts from now on: wg.Add is over
	for _, p := range e.procs {
		p.in.close()
		p.cancel()
	}
	e.mu.Unlock()
	done := make(chan struct{})
	go func() {
		e.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return
	case <-grace.Done():
	}
	e.mu.Lock()
	for _, p := range e.procs {
		signalGroup(p.cmd, syscall.SIGKILL)
	}
	e.mu.Unlock()
	select {
	case <-done:
	case <-final.Done():
	}
}

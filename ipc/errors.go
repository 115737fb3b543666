package ipc

import (
	"errors"
	"fmt"
)

// Sentinel errors returned (wrapped) by the engine. Callers test them with
// errors.Is; the command line maps each to an exit status.
var (
	// ErrNoService means no socket exists for the service name.
	ErrNoService = errors.New("no such service")
	// ErrRefused means a socket exists but nothing accepts on it, or the
	// service closed the connection at once.
	ErrRefused = errors.New("connection refused")
	// ErrPermission means the run directory, the socket or the service's
	// UID/GID check denied access.
	ErrPermission = errors.New("permission denied")
	// ErrTooLarge means a frame announced a length over the receiver's limit.
	ErrTooLarge = errors.New("frame too large")
	// ErrBadData means malformed input: a truncated frame, a bad envelope.
	ErrBadData = errors.New("bad data")
	// ErrTimeout means a deadline passed before the awaited thing happened.
	ErrTimeout = errors.New("timed out")
	// ErrPeerClosed means the peer closed or reset the connection while
	// something was still due: a write found it gone, or a read was cut
	// by a reset. (A read that finds a clean end between frames returns
	// io.EOF.)
	ErrPeerClosed = errors.New("closed by the peer")
	// ErrAlreadyRunning means a live service already holds the name.
	ErrAlreadyRunning = errors.New("already running")
	// ErrClosed means the connection or loop was closed.
	ErrClosed = errors.New("closed")
	// ErrQueueFull means a peer does not read and its bounded send queue is
	// full.
	ErrQueueFull = errors.New("send queue full")
	// ErrOverloaded means a service's bound on the memory its clients'
	// partial frames hold (ServiceOptions.MaxBuffered) is reached.
	ErrOverloaded = errors.New("service overloaded")
	// ErrUnsafeRunDir means the run directory is a symlink or writable by
	// others without being owned by the caller or root.
	ErrUnsafeRunDir = errors.New("unsafe run directory")
	// ErrInvalid means a name or setting the caller gave is malformed: a
	// service name that is not a plain file name, a socket path too long
	// for a Unix socket, an IPC_NETWORK rule that does not parse.
	ErrInvalid = errors.New("invalid argument")
)

// Errorf returns an error of kind (one of the sentinels above, tested with
// errors.Is) whose text is only the formatted message: the message says
// what happened in words of its own, so the kind is not repeated after it
// ("service pong is already running", not "...: already running"). Like
// fmt.Errorf, %w wraps a further error.
func Errorf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, err: fmt.Errorf(format, args...)}
}

// kindError is an error of a kind whose message needs no mention of it.
type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }

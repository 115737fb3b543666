package commands

import (
	"errors"
	"fmt"

	"github.com/ipcctl/ipcctl/ipc"
)

// ExitStatus is a process exit status with a meaning documented in the
// man page.
type ExitStatus int

// The exit statuses of ipcctl. Scripts rely on them; they never change.
const (
	ExitOK          ExitStatus = 0
	ExitFailure     ExitStatus = 1
	ExitUsage       ExitStatus = 2
	ExitBadData     ExitStatus = 65  // sysexits EX_DATAERR
	ExitUnavailable ExitStatus = 69  // sysexits EX_UNAVAILABLE
	ExitPermission  ExitStatus = 77  // sysexits EX_NOPERM
	ExitTimeout     ExitStatus = 124 // as timeout(1)
)

// ExitStatuses lists every exit status with its meaning, in order, for the
// documentation.
var ExitStatuses = []struct {
	Status  ExitStatus
	Meaning string
}{
	{ExitOK, "success"},
	{ExitFailure, "any other failure"},
	{ExitUsage, "usage error (unknown flag, missing argument, bad flag value, bad service name, malformed IPC_NETWORK)"},
	{ExitBadData, "bad data (frame over the limit, malformed input)"},
	{ExitUnavailable, "service unavailable (no such service, nothing listening, refused)"},
	{ExitPermission, "permission denied (run directory or socket, refused by the service's UID/GID check, or NATS servers refusing the credentials or TLS)"},
	{ExitTimeout, "timed out (--timeout, --wait-service)"},
}

// ExitCode returns the process exit status for err, the error a command
// returned. It is the only place where errors become exit statuses.
func ExitCode(err error) int {
	var usage *UsageError
	switch {
	case err == nil:
		return int(ExitOK)
	case errors.As(err, &usage), errors.Is(err, ipc.ErrInvalid):
		return int(ExitUsage)
	case errors.Is(err, ipc.ErrTooLarge), errors.Is(err, ipc.ErrBadData):
		return int(ExitBadData)
	case errors.Is(err, ipc.ErrNoService), errors.Is(err, ipc.ErrRefused), errors.Is(err, ipc.ErrPeerClosed):
		return int(ExitUnavailable)
	case errors.Is(err, ipc.ErrPermission), errors.Is(err, ipc.ErrUnsafeRunDir):
		return int(ExitPermission)
	case errors.Is(err, ipc.ErrTimeout):
		return int(ExitTimeout)
	}
	return int(ExitFailure)
}

// UsageError is a mistake on the command line: an unknown flag, a missing
// or extra argument, a bad flag value. It exits with status 2.
type UsageError struct {
	Err error
}

// Error returns the message of the wrapped error.
func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *UsageError) Unwrap() error { return e.Err }

// UsageErrorf returns a *UsageError with a formatted message. Like
// fmt.Errorf, %w wraps an error.
func UsageErrorf(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// silentError is an error that was already reported on stderr: main exits
// with its status without printing it again.
type silentError struct {
	err error
}

func (e *silentError) Error() string { return e.err.Error() }
func (e *silentError) Unwrap() error { return e.err }

// Silent marks err as already reported to the user, so that main only turns
// it into an exit status. It returns nil when err is nil.
func Silent(err error) error {
	if err == nil {
		return nil
	}
	return &silentError{err: err}
}

// IsSilent reports whether err was already reported to the user.
func IsSilent(err error) bool {
	var s *silentError
	return errors.As(err, &s)
}

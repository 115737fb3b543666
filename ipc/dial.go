package ipc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"syscall"
	"time"
)

// DialOptions set up a client connection.
type DialOptions struct {
	// RunDir is the run directory; "" resolves it with ResolveRunDir.
	RunDir string
	// MaxSize is the largest payload accepted (DefaultMaxSize when 0).
	MaxSize int
	// Wait, when positive, waits up to that long for the service to appear
	// instead of failing at once (locating a peer started later).
	Wait time.Duration
	// TrustOwners lists the users, besides the run directory's owner,
	// the caller and root, who may own the service's socket and run the
	// process listening on it. Nil reads $IPC_TRUST_OWNER (TrustEnv).
	TrustOwners []int
}

// Dial connects to the local service name in the run directory (package
// bridge's Dial also follows IPC_NETWORK). It checks the run directory as a
// service does, and that the socket and the process listening on it
// belong to the directory's owner, the caller, root or opts.TrustOwners,
// so that a client never talks to a socket another user planted. Errors
// wrap ErrNoService (no socket), ErrRefused (nothing accepts),
// ErrPermission or ErrUnsafeRunDir (a check failed), or ErrTimeout
// (nothing appeared within opts.Wait).
func Dial(ctx context.Context, name string, opts DialOptions) (*Conn, error) {
	dir := ResolveRunDir(opts.RunDir)
	path, err := SocketPath(dir, name)
	if err != nil {
		return nil, err
	}
	if opts.Wait <= 0 {
		return dialChecked(ctx, name, dir, path, opts)
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Wait)
	defer cancel()
	for delay := time.Millisecond; ; delay = min(delay*2, 100*time.Millisecond) {
		c, err := dialChecked(ctx, name, dir, path, opts)
		if err == nil || !(errors.Is(err, ErrNoService) || errors.Is(err, ErrRefused) || cutShort(ctx, err)) {
			return c, err
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, fmt.Errorf("%w: service %s did not appear in %s within %s", ErrTimeout, name, dir, opts.Wait)
			}
			return nil, ctx.Err()
		case <-time.After(delay):
		}
	}
}

// cutShort reports whether a dial failed because ctx ended or its
// deadline passed (the dialer may notice the deadline before ctx does), so
// that Dial reports ErrTimeout rather than an i/o error.
func cutShort(ctx context.Context, err error) bool {
	var ne net.Error
	return ctx.Err() != nil || errors.As(err, &ne) && ne.Timeout()
}

// DialPath connects to the socket at path, a service's or any other,
// outside the run directory's rules (the caller chose the path).
func DialPath(ctx context.Context, path string, max int) (*Conn, error) {
	return dialPath(ctx, path, path, max)
}

// dialChecked checks the run directory dir and the socket at path, then
// connects to it and checks the listening process.
func dialChecked(ctx context.Context, name, dir, path string, opts DialOptions) (*Conn, error) {
	t, err := trustFor(dir, opts)
	if err != nil {
		return nil, err
	}
	if err := t.checkSocket(path); err != nil {
		return nil, err
	}
	c, err := dialPath(ctx, name, path, opts.MaxSize)
	if err != nil {
		return nil, err
	}
	if err := t.checkPeer(c, path); err != nil {
		c.Close()
		return nil, err
	}
	if err := t.checkAllow(name, path); err != nil {
		c.Close() // after connecting, so that the service sees the attempt
		return nil, err
	}
	return c, nil
}

// dialPath connects to the socket at path and names errors by the service.
func dialPath(ctx context.Context, name, path string, max int) (*Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, dialError(name, path, err)
	}
	return NewConn(nc, max), nil
}

// isSocket reports whether a socket file is at path.
func isSocket(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode().Type() == fs.ModeSocket
}

// dialError tells why a service could not be reached, and what to do.
func dialError(name, path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w %q: %s does not exist (is the service running? is --rundir right?)", ErrNoService, name, path)
	case errors.Is(err, syscall.ECONNREFUSED) && isSocket(tappedPath(path)):
		return fmt.Errorf("%w: nothing accepts on %s: a tap of %q was killed and left the service's socket at %s; "+
			"run \"ipcctl dump %s\" and stop it (Ctrl-C) to put the service back", ErrRefused, path, name, tappedPath(path), name)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w: nothing accepts on %s (stale socket of %q?)", ErrRefused, path, name)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w: cannot connect to %s", ErrPermission, path)
	}
	return fmt.Errorf("cannot connect to %q at %s: %w", name, path, err)
}

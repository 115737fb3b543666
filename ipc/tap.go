package ipc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// Tap stands in front of a live service so that its traffic can be
// watched (ipcctl dump NAME). The service's socket is moved aside, still
// accepting; the tap's listener takes its place, so that new clients
// connect to the tap, and a bridge (package ipc/bridge) pairs each of them with
// a connection to the service (Aside). Close puts the service's socket back.
//
// Clients connected before the tap keep their direct connection and are
// not seen. The service sees the tap's credentials, not the clients', so
// the tap applies the allow list the service publishes itself: a client
// the service would refuse is refused by the tap, and never reaches it.
// Each step is a link or a rename in the run directory, so a client never
// finds the name missing. If the process is killed, the next tap of the
// same name puts the service back first.
type Tap struct {
	path  string // the service's name
	aside string // where the service's socket is while tapped
	ln    *net.UnixListener
	own   fileID // the tap's socket, removed at Close only if still there
	svc   fileID // the service's socket, put back only if still live
	allow *Allow // the service's allow list; nil accepts everyone
	name  string
	max   int
	once  sync.Once
	err   error
}

// NewTap moves the live service name aside and listens in its place.
func NewTap(ctx context.Context, rundir, name string, maxSize int) (*Tap, error) {
	dir := ResolveRunDir(rundir)
	if err := CheckRunDir(dir); err != nil {
		return nil, err
	}
	path, err := SocketPath(dir, name)
	if err != nil {
		return nil, err
	}
	// Short names: the temporary one must fit in a socket address too.
	aside := asidePath(dir, name)
	tmp := filepath.Join(dir, fmt.Sprintf(".%s.tap%d", name, os.Getpid()))
	if len(tmp) > maxSocketPath || len(aside) > maxSocketPath {
		return nil, fmt.Errorf("cannot tap %s: the tap's socket path would pass the %d bytes a Unix socket allows; use a shorter --rundir",
			path, maxSocketPath)
	}
	if err := untap(ctx, name, path, aside); err != nil {
		return nil, err
	}
	probe, err := dialPath(ctx, name, path, 0)
	if err != nil {
		return nil, err
	}
	probe.Close()
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, dialError(name, path, err)
	}
	allow, err := serviceAllow(path, fi)
	if err != nil {
		return nil, err
	}
	if err := os.Link(path, aside); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("service %q is already tapped (%s exists)", name, aside)
		}
		return nil, fmt.Errorf("cannot tap %s: %w", path, pathError(err))
	}
	t := &Tap{path: path, aside: aside, max: maxSize, svc: idOf(fi), allow: allow, name: name}
	if t.ln, err = listenLike(tmp, fi); err == nil {
		t.own, _ = idAt(tmp)
		if err = os.Rename(tmp, path); err != nil {
			err = pathError(err)
		}
	}
	if err != nil {
		if t.ln != nil {
			t.ln.Close()
			os.Remove(tmp)
		}
		os.Remove(aside)
		return nil, fmt.Errorf("cannot tap %s: %w", path, err)
	}
	return t, nil
}

// asidePath is where a tap moves the socket of service name in dir.
func asidePath(dir, name string) string { return filepath.Join(dir, "."+name+".tapped") }

// Tapped reports whether service name in dir is tapped: its socket is
// aside, and what accepts at its name is a tap.
func Tapped(dir, name string) bool {
	fi, err := os.Lstat(asidePath(dir, name))
	return err == nil && fi.Mode().Type() == fs.ModeSocket
}

// untap puts back a service that a tap killed before its Close left
// aside: the tapped socket is live and the name is not. A live name and a
// live tapped socket mean another tap is running.
func untap(ctx context.Context, name, path, aside string) error {
	if _, err := os.Lstat(aside); err != nil {
		return nil
	}
	switch {
	case !live(aside):
		os.Remove(aside) // what was tapped is gone
	case live(path):
		return fmt.Errorf("service %q is already tapped (%s is live)", name, aside)
	default:
		if err := os.Rename(aside, path); err != nil {
			return fmt.Errorf("cannot put back %s, left aside by an earlier tap: %w", aside, pathError(err))
		}
	}
	return ctx.Err()
}

// listenLike listens at path with the mode and, where it may, the owner
// of the socket fi describes, so that the service's clients may connect.
func listenLike(path string, fi fs.FileInfo) (*net.UnixListener, error) {
	ln, err := listenAt(path, fi.Mode().Perm())
	if err != nil {
		return nil, err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		os.Lchown(path, int(st.Uid), int(st.Gid)) // allowed to root only, or a no-op
	}
	return ln, nil
}

// serviceAllow reads the allow list the service whose socket fi
// describes publishes, trusting a file of the socket's owner, the caller
// or root. A list that cannot be read is an error: the tap would let
// through clients the service refuses.
func serviceAllow(path string, fi fs.FileInfo) (*Allow, error) {
	owner := ownerOf(fi)
	allow, err := readAllow(path, func(uid int) bool { return uid == 0 || uid == owner || uid == os.Geteuid() })
	if err != nil {
		return nil, fmt.Errorf("cannot tap %s: it could not apply the service's allow list: %w", path, err)
	}
	return allow, nil
}

// Accept returns the next client that connected to the tap. A client the
// service's allow list refuses is closed, as the service closes it, and
// Accept returns an error wrapping ErrPermission that names it; the next
// call goes on accepting.
func (t *Tap) Accept() (MessageConn, error) {
	uc, err := t.ln.AcceptUnix()
	if err != nil {
		return nil, acceptError(err)
	}
	c := NewConn(uc, t.max)
	if !t.allow.Permits(c.peer) {
		go refuse(c, true)
		return nil, fmt.Errorf("%w: uid %d gid %d (pid %d) is not allowed on %s",
			ErrPermission, c.peer.UID, c.peer.GID, c.peer.PID, t.name)
	}
	return c, nil
}

// Aside is the path of the service's socket, moved aside: where a
// bridge connects the tap's clients to.
func (t *Tap) Aside() string { return t.aside }

// Addr is the service's socket path, where the tap listens.
func (t *Tap) Addr() string { return t.path }

// Close puts the service's socket back in its place, then stops
// accepting. Connections made through the tap are the bridge's to close.
func (t *Tap) Close() error {
	t.once.Do(func() {
		t.err = t.restore()
		if err := t.ln.Close(); t.err == nil {
			t.err = acceptError(err)
		}
	})
	if errors.Is(t.err, ErrClosed) {
		return nil
	}
	return t.err
}

// restore puts the service's socket back where the tap's is, but only a
// service that still accepts, and only over the tap's own socket: the
// service may have ended under the tap, and a new one taken the name.
// What is left of an ended service is removed.
func (t *Tap) restore() error {
	if live(t.aside) {
		if id, ok := idAt(t.path); !ok || id != t.own {
			return fmt.Errorf("cannot put %s back: %s is no longer the tap's socket", t.aside, t.path)
		}
		if err := os.Rename(t.aside, t.path); err != nil {
			return fmt.Errorf("cannot put %s back in place: %w", t.aside, pathError(err))
		}
		return nil
	}
	if _, err := removeIfSame(t.aside, t.svc); err != nil {
		return fmt.Errorf("cannot remove %s, the socket of an ended service: %w", t.aside, err)
	}
	_, err := removeIfSame(t.path, t.own)
	return err
}

// Live reports whether something accepts connections on the socket of
// service name in dir. It finds out by connecting, as a client that
// leaves at once.
func Live(dir, name string) bool {
	path, err := SocketPath(dir, name)
	return err == nil && live(path)
}

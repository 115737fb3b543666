package ipc

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
)

// fileID tells one file from another: a name in the run directory may
// come to name another socket (a tap's, a new service's) while the old
// one lives on under another name, so that a process removes a name only
// when it still names the file the process made.
type fileID struct {
	dev, ino uint64
}

// idOf returns the identity of the file fi describes (zero if unknown).
func idOf(fi fs.FileInfo) fileID {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fileID{dev: uint64(st.Dev), ino: st.Ino}
	}
	return fileID{}
}

// idAt returns the identity of the file at path, not following a symlink.
func idAt(path string) (fileID, bool) {
	fi, err := os.Lstat(path)
	if err != nil {
		return fileID{}, false
	}
	id := idOf(fi)
	return id, id != fileID{}
}

// removeIfSame removes path if it still names the file id, and reports
// whether it did.
func removeIfSame(path string, id fileID) (bool, error) {
	if now, ok := idAt(path); !ok || now != id {
		return false, nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, pathError(err)
	}
	return true, nil
}

// tappedPath is where a tap moves the socket at path while it listens
// in its place (.NAME.tapped beside NAME).
func tappedPath(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tapped")
}

// tapOfGone reports whether what listens at path is a tap whose service
// is gone: the tapped socket is there and nothing accepts on it. The
// caller holds the name's lock, so no service of the name is running.
func tapOfGone(path string) bool {
	aside := tappedPath(path)
	fi, err := os.Lstat(aside)
	return err == nil && fi.Mode().Type() == fs.ModeSocket && !live(aside)
}

// listenOver listens at a temporary name beside path, then renames the
// socket over path in one step, so that the name always accepts.
func listenOver(path string, perm fs.FileMode) (*net.UnixListener, fileID, error) {
	tmp := filepath.Join(filepath.Dir(path), fmt.Sprintf(".%s.new%d", filepath.Base(path), os.Getpid()))
	if len(tmp) > maxSocketPath {
		return nil, fileID{}, fmt.Errorf("cannot listen at %s in place of a tap: the temporary path would pass the %d bytes a Unix socket allows; use a shorter --rundir",
			path, maxSocketPath)
	}
	os.Remove(tmp) // left by a process of the same pid, killed
	ln, err := listenAt(tmp, perm)
	if err != nil {
		return nil, fileID{}, err
	}
	id, _ := idAt(tmp)
	if err := os.Rename(tmp, path); err != nil {
		ln.Close()
		os.Remove(tmp)
		return nil, fileID{}, fmt.Errorf("cannot listen at %s: %w", path, pathError(err))
	}
	return ln, id, nil
}

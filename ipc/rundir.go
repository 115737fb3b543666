package ipc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// DefaultRunDir is LibIPC's run directory, used when nothing else names one.
const DefaultRunDir = "/tmp/.libipc-run"

// maxSocketPath is the longest socket path the kernel accepts (sun_path
// holds 108 bytes including the final NUL).
const maxSocketPath = 107

// ResolveRunDir returns the run directory: dir when it is not empty, else
// $IPC_RUNDIR, else LibIPC's $RUNDIR, else DefaultRunDir.
func ResolveRunDir(dir string) string {
	for _, d := range []string{dir, os.Getenv("IPC_RUNDIR"), os.Getenv("RUNDIR")} {
		if d != "" {
			return d
		}
	}
	return DefaultRunDir
}

// PrepareRunDir creates dir with mode 0770 when it is missing and checks that
// it is safe to put sockets in: a real directory, not a symlink, and not
// writable by others unless owned by the caller or root.
func PrepareRunDir(dir string) error {
	if err := os.Mkdir(dir, 0o770); err == nil {
		// Mkdir is subject to the umask; the mode is part of the contract.
		if err := os.Chmod(dir, 0o770); err != nil {
			return fmt.Errorf("run directory %s: %w", dir, pathError(err))
		}
	} else if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("cannot create run directory %s: %w", dir, pathError(err))
	}
	return CheckRunDir(dir)
}

// CheckRunDir reports whether an existing dir is safe to use as a run
// directory. It returns an error wrapping ErrUnsafeRunDir, ErrPermission or
// ErrNoService (when the directory does not exist).
func CheckRunDir(dir string) error {
	_, err := checkRunDir(dir)
	return err
}

// checkRunDir is CheckRunDir, and returns the directory's owner.
func checkRunDir(dir string) (owner int, err error) {
	fi, err := os.Lstat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, Errorf(ErrNoService, "run directory %s does not exist (is the service running? is --rundir right?)", dir)
		}
		return 0, fmt.Errorf("run directory %s: %w", dir, pathError(err))
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return 0, Errorf(ErrUnsafeRunDir, "run directory %s is a symlink; use the real path", dir)
	}
	if !fi.IsDir() {
		return 0, Errorf(ErrUnsafeRunDir, "run directory %s is not a directory", dir)
	}
	owner = ownerOf(fi)
	if fi.Mode().Perm()&0o002 != 0 && owner != 0 && owner != os.Geteuid() {
		return 0, Errorf(ErrUnsafeRunDir, "run directory %s is writable by others and owned by uid %d; use a directory of your own",
			dir, owner)
	}
	return owner, nil
}

// ownerOf returns the uid that owns the file fi describes (-1 if unknown).
func ownerOf(fi fs.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}

// SocketPath returns the path of service name's socket in dir. A name must
// be a plain file name, and the path must fit in a Unix socket address.
func SocketPath(dir, name string) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	p := filepath.Join(dir, name)
	if len(p) > maxSocketPath {
		return "", Errorf(ErrInvalid, "socket path %s is %d bytes, longer than the %d a Unix socket allows; use a shorter --rundir",
			p, len(p), maxSocketPath)
	}
	return p, nil
}

// CheckName refuses a service name that is not a plain file name.
func CheckName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return Errorf(ErrInvalid, "invalid service name %q: a name is a plain file name, without \"/\"", name)
	}
	return nil
}

// WrapPermission wraps a file system error so that access problems
// match ErrPermission (and so map to the same exit status).
func WrapPermission(err error) error { return pathError(err) }

// pathError wraps a file system error so that access problems match
// ErrPermission.
func pathError(err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%w (%v)", ErrPermission, err)
	}
	return err
}

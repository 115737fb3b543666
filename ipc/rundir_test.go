package ipc

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runDir returns a fresh, short run directory for one test: socket paths
// must fit in the 108 bytes of a Unix socket address.
func runDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "ipt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func TestResolveRunDirOrder(t *testing.T) {
	t.Setenv("IPC_RUNDIR", "")
	t.Setenv("RUNDIR", "")
	if got := ResolveRunDir(""); got != DefaultRunDir {
		t.Fatalf("nothing set: got %q, want %q", got, DefaultRunDir)
	}
	t.Setenv("RUNDIR", "/r/libipc")
	if got := ResolveRunDir(""); got != "/r/libipc" {
		t.Fatalf("RUNDIR set: got %q", got)
	}
	t.Setenv("IPC_RUNDIR", "/r/ipc")
	if got := ResolveRunDir(""); got != "/r/ipc" {
		t.Fatalf("IPC_RUNDIR and RUNDIR set: got %q, want IPC_RUNDIR", got)
	}
	if got := ResolveRunDir("/r/flag"); got != "/r/flag" {
		t.Fatalf("flag and both variables set: got %q, want the flag", got)
	}
	t.Setenv("IPC_RUNDIR", "")
	if got := ResolveRunDir("/r/flag"); got != "/r/flag" {
		t.Fatalf("flag and RUNDIR set: got %q, want the flag", got)
	}
}

func TestPrepareRunDirCreates0770(t *testing.T) {
	dir := filepath.Join(runDir(t), "run")
	if err := PrepareRunDir(dir); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.IsDir() || fi.Mode().Perm() != 0o770 {
		t.Fatalf("created %v, want a directory with mode 0770", fi.Mode())
	}
	// An existing directory is used as it is.
	if err := PrepareRunDir(dir); err != nil {
		t.Fatalf("second time: %v", err)
	}
}

func TestPrepareRunDirRefusesSymlink(t *testing.T) {
	base := runDir(t)
	real := filepath.Join(base, "real")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	err := PrepareRunDir(link)
	if !errors.Is(err, ErrUnsafeRunDir) || !strings.Contains(err.Error(), "symlink") {
		t.Fatalf("got %v, want ErrUnsafeRunDir naming the symlink", err)
	}
}

func TestPrepareRunDirRefusesFile(t *testing.T) {
	f := filepath.Join(runDir(t), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := PrepareRunDir(f); !errors.Is(err, ErrUnsafeRunDir) {
		t.Fatalf("got %v, want ErrUnsafeRunDir", err)
	}
}

func TestPrepareRunDirWorldWritable(t *testing.T) {
	dir := filepath.Join(runDir(t), "open")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	// Writable by others but owned by the caller: accepted.
	if err := PrepareRunDir(dir); err != nil {
		t.Fatalf("own world-writable directory: %v", err)
	}
	if os.Geteuid() != 0 {
		t.Skip("changing a directory's owner needs root")
	}
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	err := PrepareRunDir(dir)
	if !errors.Is(err, ErrUnsafeRunDir) || !strings.Contains(err.Error(), "65534") {
		t.Fatalf("world-writable directory of uid 65534: got %v, want ErrUnsafeRunDir naming the owner", err)
	}
	// Owned by another user but not writable by others: accepted.
	if err := os.Chmod(dir, 0o775); err != nil {
		t.Fatal(err)
	}
	if err := PrepareRunDir(dir); err != nil {
		t.Fatalf("group-writable directory of uid 65534: %v", err)
	}
}

func TestCheckRunDirMissing(t *testing.T) {
	err := CheckRunDir(filepath.Join(runDir(t), "none"))
	if !errors.Is(err, ErrNoService) {
		t.Fatalf("got %v, want ErrNoService", err)
	}
}

func TestPrepareRunDirMissingParent(t *testing.T) {
	err := PrepareRunDir(filepath.Join(runDir(t), "a", "b"))
	if err == nil {
		t.Fatal("a run directory whose parent is missing was accepted")
	}
}

func TestSocketPath(t *testing.T) {
	p, err := SocketPath("/tmp/run", "pong")
	if err != nil || p != "/tmp/run/pong" {
		t.Fatalf("got %q, %v", p, err)
	}
	for _, name := range []string{"", ".", "..", "a/b", "/abs", "nul\x00byte", "../up"} {
		if _, err := SocketPath("/tmp/run", name); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	dir := "/tmp/" + strings.Repeat("d", maxSocketPath-len("/tmp/")-2)
	if _, err := SocketPath(dir, "n"); err != nil {
		t.Fatalf("a path of exactly %d bytes refused: %v", maxSocketPath, err)
	}
	_, err = SocketPath(dir, "nn")
	if err == nil || !strings.Contains(err.Error(), "--rundir") {
		t.Fatalf("a path of %d bytes: got %v, want an error that says to shorten --rundir", maxSocketPath+1, err)
	}
}

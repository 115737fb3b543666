package ipc

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestParseOwners(t *testing.T) {
	got, err := ParseOwners(" 0, 4242,,root ")
	if err != nil || !slices.Equal(got, []int{0, 4242, 0}) {
		t.Fatalf("ParseOwners: %v, %v", got, err)
	}
	if got, err := ParseOwners(""); err != nil || got != nil {
		t.Fatalf("ParseOwners of nothing: %v, %v", got, err)
	}
	if _, err := ParseOwners("no-such-user-here"); err == nil {
		t.Fatal("an unknown user was accepted")
	}
}

// TestDialChecksRunDir: a client refuses a symlinked run directory as a
// service does.
func TestDialChecksRunDir(t *testing.T) {
	dir := runDir(t)
	serve(t, newLoop(t, Options{RunDir: dir}), "svc", ServiceOptions{})
	link := filepath.Join(dir, "l")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	_, err := Dial(context.Background(), "svc", DialOptions{RunDir: link})
	if !errors.Is(err, ErrUnsafeRunDir) {
		t.Fatalf("Dial through a symlinked run directory: %v, want ErrUnsafeRunDir", err)
	}
}

// TestDialChecksSocketOwner: a socket of a user the client does not trust
// is refused unless that user is named.
func TestDialChecksSocketOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving a socket to another user needs root")
	}
	dir := runDir(t)
	path := filepath.Join(dir, "p")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := os.Chown(path, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	t.Setenv(TrustEnv, "")
	ctx := context.Background()
	if _, err := Dial(ctx, "p", DialOptions{RunDir: dir}); !errors.Is(err, ErrPermission) {
		t.Fatalf("Dial of another user's socket: %v, want ErrPermission", err)
	}
	c, err := Dial(ctx, "p", DialOptions{RunDir: dir, TrustOwners: []int{4242}})
	if err != nil {
		t.Fatalf("Dial trusting the owner: %v", err)
	}
	c.Close()
	t.Setenv(TrustEnv, "4242")
	c, err = Dial(ctx, "p", DialOptions{RunDir: dir})
	if err != nil {
		t.Fatalf("Dial trusting the owner through $%s: %v", TrustEnv, err)
	}
	c.Close()
}

package commands

import (
	"errors"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// waitExited returns once the process has exited, not before, and leaves
// its exit status for Wait.
func TestWaitExited(t *testing.T) {
	cmd := exec.Command("sh", "-c", "read x; exit 3")
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	var fd int
	askPidfd(cmd, &fd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		waitExited(fd)
		close(done)
	}()
	select {
	case <-done:
		t.Fatal("waitExited returned while the process runs")
	case <-time.After(100 * time.Millisecond):
	}
	stdin.Write([]byte("go\n"))
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("waitExited did not return once the process exited")
	}
	var ee *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("Wait: %v, want exit status 3", err)
	}
}

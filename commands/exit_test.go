package commands

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ipcctl/ipcctl/ipc"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("boom"), 1},
		{UsageErrorf("missing argument"), 2},
		{fmt.Errorf("send: %w", UsageErrorf("bad")), 2},
		{fmt.Errorf("frame of 2000000 bytes: %w", ipc.ErrTooLarge), 65},
		{ipc.ErrBadData, 65},
		{fmt.Errorf("pong: %w", ipc.ErrNoService), 69},
		{ipc.ErrRefused, 69},
		{ipc.ErrPermission, 77},
		{fmt.Errorf("/tmp/x: %w", ipc.ErrUnsafeRunDir), 77},
		{fmt.Errorf("no reply: %w", ipc.ErrTimeout), 124},
		{Silent(fmt.Errorf("x: %w", ipc.ErrTimeout)), 124},
		{Silent(errors.New("reported")), 1},
		{ipc.ErrClosed, 1},
		{ipc.CheckName("a/b"), 2},
		{ipc.Errorf(ipc.ErrInvalid, "IPC_NETWORK: rule %q is not NAME URI", "x"), 2},
		{ipc.Errorf(ipc.ErrAlreadyRunning, "service pong is already running"), 1},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestSilent(t *testing.T) {
	if Silent(nil) != nil {
		t.Error("Silent(nil) != nil")
	}
	err := fmt.Errorf("wrapped: %w", Silent(errors.New("x")))
	if !IsSilent(err) {
		t.Error("IsSilent of a wrapped silent error = false")
	}
	if IsSilent(errors.New("x")) {
		t.Error("IsSilent of a plain error = true")
	}
}

func TestExitStatusesDocumented(t *testing.T) {
	seen := map[ExitStatus]bool{}
	for _, s := range ExitStatuses {
		seen[s.Status] = true
	}
	for _, s := range []ExitStatus{ExitOK, ExitFailure, ExitUsage, ExitBadData, ExitUnavailable, ExitPermission, ExitTimeout} {
		if !seen[s] {
			t.Errorf("exit status %d is missing from ExitStatuses", s)
		}
	}
}

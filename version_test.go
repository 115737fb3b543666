package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

func TestCommitOf(t *testing.T) {
	tests := []struct {
		settings []debug.BuildSetting
		want     string
	}{
		{nil, "unknown"},
		{[]debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "false"}}, "0123456789ab"},
		{[]debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}, "0123456789ab-modified"},
	}
	for _, tt := range tests {
		if got := commitOf(&debug.BuildInfo{Settings: tt.settings}); got != tt.want {
			t.Errorf("commitOf(%v) = %q, want %q", tt.settings, got, tt.want)
		}
	}
}

func TestCommitOfStamped(t *testing.T) {
	defer func(c string) { commit = c }(commit)
	commit = "feedc0ffee12"
	if got := commitOf(&debug.BuildInfo{}); got != commit {
		t.Errorf("commitOf without VCS settings = %q, want the stamped %q", got, commit)
	}
	vcs := &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}}}
	if got := commitOf(vcs); got != "0123456789ab" {
		t.Errorf("commitOf with VCS settings = %q, want the recorded revision", got)
	}
}

// TestInstallStampsCommit runs README.md's install command with
// -buildvcs=false and checks that --version still names the commit.
func TestInstallStampsCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ipcctl")
	}
	head, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^    (CGO_ENABLED=0 go install .*)$`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no install command")
	}
	bin := t.TempDir()
	cmd := exec.Command("sh", "-c", string(m[1]))
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", m[1], err, out)
	}
	out, err := exec.Command(filepath.Join(bin, "ipcctl"), "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "(commit " + strings.TrimSpace(string(head)) + ", "
	if !strings.Contains(string(out), want) {
		t.Fatalf("--version printed %q, want it to hold %q", out, want)
	}
}

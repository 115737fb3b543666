package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tourStep is one command of the README's tour and the output the README
// shows after it.
type tourStep struct {
	cmd  string   // the command, continuation lines joined by newlines
	want []string // the lines shown after it
}

// readTour returns the steps of README.md's "## Tour" section: indented
// lines "$ CMD", "> more of CMD", then the output lines.
func readTour(t *testing.T) []tourStep {
	f, err := os.Open("README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var steps []tourStep
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## Tour"
			continue
		}
		body, indented := strings.CutPrefix(line, "    ")
		switch {
		case !in || !indented:
		case strings.HasPrefix(body, "$ "):
			steps = append(steps, tourStep{cmd: body[2:]})
		case strings.HasPrefix(body, "> ") && len(steps) > 0 && len(steps[len(steps)-1].want) == 0:
			steps[len(steps)-1].cmd += "\n" + body[2:]
		case len(steps) > 0:
			steps[len(steps)-1].want = append(steps[len(steps)-1].want, body)
		}
	}
	return steps
}

// tourNoise is what varies from run to run in the tour's output.
var tourNoise = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z`), "TIME"},
	{regexp.MustCompile(`("?(pid|uid|gid)"?[=:])\d+`), "${1}N"},
	{regexp.MustCompile(`(owner|group)=\S+`), "${1}=X"},
	{regexp.MustCompile(`/tmp/tour\b|/tmp/\w+/run\b`), "RUNDIR"},
	{regexp.MustCompile(`"time":"[^"]*"`), `"time":"..."`},
}

func normalize(s, rundir string) string {
	s = strings.ReplaceAll(s, rundir, "RUNDIR")
	for _, n := range tourNoise {
		s = n.re.ReplaceAllString(s, n.with)
	}
	return s
}

// TestReadmeTour runs the commands of the README's tour as they are
// written, in one bash, and checks that each foreground command prints
// only lines the README shows after it (the README may show there the
// output of a command in the background too), and that the tour ends,
// so that the tour cannot rot.
func TestReadmeTour(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("needs bash")
	}
	steps := readTour(t)
	if len(steps) < 10 {
		t.Fatalf("only %d steps found in the tour", len(steps))
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "ipcctl"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	work := t.TempDir()
	rundir, err := os.MkdirTemp("/tmp", "tour")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(rundir)
	cmd := tourCommand(tourScript(steps))
	cmd.Dir = work
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	defer stopGroup(cmd)
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "IPC_RUNDIR="+rundir, "NO_COLOR=1")
	done := make(chan error, 1)
	go func() { out, err := cmd.CombinedOutput(); t.Logf("tour script output:\n%s", out); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the tour script failed: %v", err)
		}
	case <-time.After(5 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("the tour did not end within 5 minutes")
	}
	for i, s := range steps {
		if strings.HasSuffix(strings.TrimSpace(s.cmd), "&") {
			continue // its output goes on while later commands run
		}
		got, err := os.ReadFile(filepath.Join(work, fmt.Sprintf(".tour.%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		checkStep(t, s, normalize(string(got), rundir), rundir)
	}
}

// tourCommand runs script in bash; as root, in a network namespace of its
// own, so that the tour's fixed TCP ports are free whatever else runs.
func tourCommand(script string) *exec.Cmd {
	if os.Geteuid() == 0 {
		if _, err := exec.LookPath("unshare"); err == nil {
			if _, err := exec.LookPath("ip"); err == nil {
				return exec.Command("unshare", "-n", "sh", "-c", `ip link set lo up && exec bash -c "$0"`, script)
			}
		}
	}
	return exec.Command("bash", "-c", script)
}

// stopGroup ends what the tour left running: its process group.
func stopGroup(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	time.Sleep(500 * time.Millisecond)
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}

// checkStep checks one command's output against the README's.
func checkStep(t *testing.T, s tourStep, got, rundir string) {
	t.Helper()
	want := map[string]bool{}
	for _, w := range s.want {
		want[normalize(w, rundir)] = true
	}
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if got == "" {
		lines = nil
	}
	for _, l := range lines {
		if !want[l] {
			t.Errorf("$ %s\nprinted %q, which the README does not show; it shows:\n%s", s.cmd, l, strings.Join(s.want, "\n"))
		}
	}
}

// tourScript is the bash script that runs the steps: each command's
// output goes to .tour.N; after a command put in the background, it waits
// for a sign of life (a new file in the run directory or the work
// directory, or output) before it goes on; at the end it stops the jobs.
func tourScript(steps []tourStep) string {
	var b strings.Builder
	b.WriteString("set -u\nmkdir -p \"$IPC_RUNDIR\"\n")
	b.WriteString(`settle() { # wait up to 20 s for something to change, then a moment more
	before=$(ls -la --time-style=+%s.%N "$IPC_RUNDIR" . 2>/dev/null | md5sum)
	for i in $(seq 200); do
		now=$(ls -la --time-style=+%s.%N "$IPC_RUNDIR" . 2>/dev/null | md5sum)
		[ "$now" != "$before" ] && break
		sleep 0.1
	done
	sleep 0.5
}
`)
	for i, s := range steps {
		cmd := strings.TrimSpace(s.cmd)
		if bg, ok := strings.CutSuffix(cmd, "&"); ok {
			fmt.Fprintf(&b, "{ %s ; } > .tour.%d 2>&1 &\nsettle\n", bg, i)
			continue
		}
		fmt.Fprintf(&b, "{ %s\n} > .tour.%d 2>&1 </dev/null\n", cmd, i)
	}
	b.WriteString("kill $(jobs -p) 2>/dev/null\nwait\nexit 0\n")
	return b.String()
}

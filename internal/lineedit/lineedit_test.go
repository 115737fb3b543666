package lineedit

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// screen is what the terminal's other end has been sent.
type screen struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

// waitFor waits until the screen's output holds want and returns it all.
func (s *screen) waitFor(t *testing.T, want string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		got := s.buf.String()
		s.mu.Unlock()
		if strings.Contains(got, want) {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Fatalf("terminal output %q does not hold %q", s.buf.String(), want)
	return ""
}

// openPty returns a new pseudo-terminal's two ends and what its
// controlling end is sent.
func openPty(t *testing.T) (master, tty *os.File, out *screen) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err = os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	out = &screen{}
	go io.Copy(out, master)
	t.Cleanup(func() { tty.Close(); master.Close() })
	return master, tty, out
}

func nextLine(t *testing.T, lines <-chan []byte) string {
	t.Helper()
	select {
	case l := <-lines:
		return string(l)
	case <-time.After(10 * time.Second):
		t.Fatal("no line read")
		return ""
	}
}

func TestEditorRedrawsTheLineBelowAMessage(t *testing.T) {
	master, tty, out := openPty(t)
	before, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(tty, tty, "\033[1mp>\033[0m ")
	if err != nil {
		t.Fatal(err)
	}
	lines, done := make(chan []byte), make(chan error, 1)
	go e.ReadLines(lines, done)
	out.waitFor(t, "p>\033[0m ")
	master.WriteString("hal")
	out.waitFor(t, "p>\033[0m hal")

	e.Print(func() { tty.WriteString("news\n") })
	out.waitFor(t, "hal\r\033[Jnews\r\n\033[1mp>\033[0m hal")

	master.WriteString("lo\r")
	if got := nextLine(t, lines); got != "hallo" {
		t.Fatalf("line %q, want hallo", got)
	}
	for keys, want := range map[string]string{
		"ab\x7fc\n":        "ac",
		"x yy\x17z\n":      "x z",
		"\x1b[A\x1bOBq\n":  "q",
		"gone\x15kept\n":   "kept",
		"h\xc3\xa9\x7f!\n": "h!",
		"\tx\n":            "\tx",
	} {
		master.WriteString(keys)
		if got := nextLine(t, lines); got != want {
			t.Errorf("keys %q gave line %q, want %q", keys, got, want)
		}
	}
	master.WriteString("half")
	out.waitFor(t, "half")
	if now, _ := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS); now.Lflag&(unix.ICANON|unix.ECHO) != 0 {
		t.Fatalf("terminal still canonical or echoing while editing: lflag %#x", now.Lflag)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if got := out.waitFor(t, "half\r\n"); !strings.HasSuffix(got, "half\r\n") {
		t.Fatalf("Close did not leave a fresh line: %q", got)
	}
	after, _ := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if *after != *before {
		t.Fatalf("terminal not restored: %+v, was %+v", after, before)
	}
}

func TestEditorEndsOnCtrlDAndRestores(t *testing.T) {
	master, tty, out := openPty(t)
	before, _ := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	e, err := New(tty, tty, "p> ")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	lines, done := make(chan []byte), make(chan error, 1)
	go e.ReadLines(lines, done)
	out.waitFor(t, "p> ")
	master.WriteString("x\x04\x7f\x04") // Ctrl-D ends only an empty line
	select {
	case err := <-done:
		if err != io.EOF {
			t.Fatalf("ReadLines ended with %v, want EOF", err)
		}
	case l := <-lines:
		t.Fatalf("line %q before the end", l)
	case <-time.After(10 * time.Second):
		t.Fatal("Ctrl-D did not end the input")
	}
	now, _ := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if *now != *before {
		t.Fatal("terminal not restored at the end of input")
	}
	e.Print(func() { tty.WriteString("late\n") })
	if got := out.waitFor(t, "late\r\n"); strings.HasSuffix(got, "p> ") {
		t.Fatalf("prompt drawn after the end of input: %q", got)
	}
}

func TestEditorNeedsATerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if _, err := New(r, w, "p> "); err == nil {
		t.Fatal("New took a pipe for a terminal")
	}
}

func TestWidth(t *testing.T) {
	for s, want := range map[string]int{"": 0, "ab": 2, "\033[32mab\033[0m": 2, "\tx": 9, "é": 1, "a\tb": 9, "日本": 4, "e\u0301": 1, "🙂": 2} {
		if got := width(s, 0); got != want {
			t.Errorf("width(%q) = %d, want %d", s, got, want)
		}
	}
	if got := wordStart([]byte("one two  ")); got != 4 {
		t.Errorf("wordStart = %d, want 4", got)
	}
}

package commands

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
	"github.com/ipcctl/ipcctl/ipc/bridge"
)

func TestCutWord(t *testing.T) {
	for _, tc := range []struct{ in, word, rest string }{
		{"send 1 hello world", "send", "1 hello world"},
		{"send\t1\thello", "send", "1\thello"},
		{"close", "close", ""},
		{"send 1  two spaces", "send", "1  two spaces"},
		{"", "", ""},
	} {
		w, r := cutWord([]byte(tc.in))
		if string(w) != tc.word || string(r) != tc.rest {
			t.Errorf("cutWord(%q) = %q, %q; want %q, %q", tc.in, w, r, tc.word, tc.rest)
		}
	}
}

func TestReadLine(t *testing.T) {
	in := "short\n" + strings.Repeat("x", 100) + "\nexact\nlast"
	br := bufio.NewReaderSize(strings.NewReader(in), 16)
	want := []struct {
		line string
		err  error
	}{
		{"short", nil},
		{"", bufio.ErrBufferFull},
		{"exact", nil},
		{"last", io.EOF},
	}
	for i, w := range want {
		line, err := readLine(br, 5)
		if string(line) != w.line || !errors.Is(err, w.err) && err != w.err {
			t.Errorf("line %d: got %q, %v; want %q, %v", i, line, err, w.line, w.err)
		}
	}
}

func TestInbox(t *testing.T) {
	b := newInbox(10)
	if !b.push(make([]byte, 50)) {
		t.Fatal("an empty inbox refused one large message")
	}
	if b.push([]byte("x")) {
		t.Fatal("a full inbox accepted more")
	}
	got, ok := b.popAll()
	if !ok || len(got) != 1 {
		t.Fatalf("popAll = %d messages, %v", len(got), ok)
	}
	b.push([]byte("a"))
	b.close()
	if got, ok := b.popAll(); !ok || string(got[0]) != "a" {
		t.Fatalf("after close, popAll = %q, %v; want what was left", got, ok)
	}
	if _, ok := b.popAll(); ok {
		t.Fatal("popAll on a closed, empty inbox reported more")
	}
}

func TestCappedBuffer(t *testing.T) {
	over := 0
	b := &cappedBuffer{max: 4, over: func() { over++ }}
	io.Copy(b, strings.NewReader("abcdefgh")) // io.Copy must not bypass the cap
	b.Write([]byte("more"))
	if !b.overflow || over != 1 || b.buf.Len() > 4 {
		t.Fatalf("overflow=%v over=%d len=%d", b.overflow, over, b.buf.Len())
	}
}

func TestAllowList(t *testing.T) {
	a, err := allowList([]string{"0", "root"}, []string{"12"})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.UIDs) != 2 || a.UIDs[1] != 0 || len(a.GIDs) != 1 || a.GIDs[0] != 12 {
		t.Fatalf("allowList = %+v", a)
	}
	if a, err := allowList(nil, nil); a != nil || err != nil {
		t.Fatalf("empty allowList = %v, %v; want nil", a, err)
	}
	var usage *UsageError
	if _, err := allowList([]string{"no-such-user-anywhere"}, nil); !errors.As(err, &usage) {
		t.Fatalf("unknown user: %v, want a usage error", err)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls out until it holds want.
func waitFor(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in output:\n%s", want, out)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestServeOwnUID serves in this process, allowing only the test's own
// user, and answers a client through a stdin command.
func TestServeOwnUID(t *testing.T) {
	dir, err := os.MkdirTemp("/tmp", "sv")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	app := NewApp("test")
	var out, errs syncBuffer
	stdin, feed := io.Pipe()
	app.Writer, app.ErrWriter, app.Reader = &out, &errs, stdin
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	uid := strconv.Itoa(os.Getuid())
	go func() {
		done <- app.RunContext(ctx, reorderArgs(app, []string{"ipcctl", "--rundir", dir, "serve", "own", "--allow-uid", uid}))
	}()
	waitFor(t, &out, "\t\tservice=own\tpath="+dir+"/own\n")

	c, err := bridge.Dial(ctx, "own", ipc.DialOptions{RunDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, &out, "\tping\n")
	// Connection ids are unique in the process, which dials too.
	m := regexp.MustCompile(`(?m)^message\t(\d+)\t[^\t]+\tping$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no message event in:\n%s", out.String())
	}
	id := m[1]
	io.WriteString(feed, "send "+id+" pong\\x00\n")
	rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
	defer rcancel()
	reply, err := c.ReadContext(rctx)
	if err != nil || string(reply) != "pong\x00" {
		t.Fatalf("reply %q, %v; want pong\\x00", reply, err)
	}

	cancel() // as SIGTERM would
	feed.Close()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("serve: %v (stderr: %s)", err, errs.String())
	}
	if _, err := os.Lstat(dir + "/own"); !os.IsNotExist(err) {
		t.Fatalf("socket still there after shutdown: %v", err)
	}
}

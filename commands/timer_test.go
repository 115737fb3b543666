package commands

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ipcctl/ipcctl/format"
)

func TestTickCount(t *testing.T) {
	var out bytes.Buffer
	if err := tick(nil, format.NewText(&out), time.Millisecond, 3); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3:\n%s", len(lines), out.String())
	}
	for i, l := range lines {
		cols := strings.Split(l, "\t")
		want := "tick=" + string(rune('1'+i))
		if len(cols) != 5 || cols[0] != "timer" || cols[1] != "-" || cols[3] != "" || cols[4] != want {
			t.Errorf("line %d = %q, want %q", i+1, l, want)
		}
	}
}

func TestTickStopsWhenDone(t *testing.T) {
	done := make(chan struct{})
	close(done)
	var out bytes.Buffer
	if err := tick(done, format.NewText(&out), time.Hour, 0); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Errorf("printed %q after done", out.String())
	}
}

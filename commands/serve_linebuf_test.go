package commands

import (
	"slices"
	"strings"
	"testing"
)

func TestLineBufferedEnv(t *testing.T) {
	lib := stdbufLib()
	if lib == "" {
		t.Skip("no libstdbuf.so here")
	}
	env := lineBufferedEnv([]string{"PATH=/bin", "LD_PRELOAD=/x.so"})
	if lookupEnv(env, "LD_PRELOAD") != lib+":/x.so" || lookupEnv(env, "_STDBUF_O") != "L" ||
		lookupEnv(env, "PYTHONUNBUFFERED") != "1" {
		t.Fatalf("env %q", env)
	}
	// The user's own choice stands.
	mine := []string{"_STDBUF_O=0", "PYTHONUNBUFFERED="}
	if got := lineBufferedEnv(slices.Clone(mine)); !slices.Equal(got, mine) {
		t.Fatalf("env %q, want %q kept as it is", got, mine)
	}
}

func TestExecModeNotesMissingLibstdbuf(t *testing.T) {
	defer func(f func() string) { stdbufLib = f }(stdbufLib)
	stdbufLib = func() string { return "" }
	for _, verbose := range []bool{false, true} {
		var b strings.Builder
		s := &server{cfg: serveConfig{g: Globals{Verbose: verbose}, lineBuffered: true}, stderr: &lockedWriter{w: &b}}
		newExecMode(s)
		if got := strings.Contains(b.String(), "libstdbuf.so was not found"); got != verbose {
			t.Errorf("verbose=%v: stderr %q", verbose, b.String())
		}
	}
}

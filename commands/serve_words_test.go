package commands

import (
	"slices"
	"testing"
)

func TestPlainWords(t *testing.T) {
	for _, tc := range []struct {
		line  string
		words []string // nil: through the shell
	}{
		{"cat", []string{"cat"}},
		{"  tr\ta-z A-Z ", []string{"tr", "a-z", "A-Z"}},
		{"/bin/cat -u", []string{"/bin/cat", "-u"}},
		{"sed s/a/b/g", []string{"sed", "s/a/b/g"}},
		{"cat > out", nil},
		{"cat | tr a b", nil},
		{"tr 'a b' c", nil},
		{"echo $HOME", nil},
		{"ls *.go", nil},
		{"cat # comment", nil},
		{"cat; cat", nil},
		{"X=1 cat", nil},
		{"echo hi", nil},    // a built-in of the shell
		{"read line", nil},  // only the shell has it
		{"while true", nil}, // a reserved word
		{"ipcctl-no-such-command", nil},
		{"~/bin/x", nil},
		{"cat\nls", nil},
		{"", nil},
		{"tr\u00a0a b", nil}, // not a blank to the shell: one word, not in PATH
	} {
		path, words, ok := plainWords(tc.line)
		if ok != (tc.words != nil) || !slices.Equal(words, tc.words) {
			t.Errorf("plainWords(%q) = %q, %q, %v; want %q", tc.line, path, words, ok, tc.words)
		}
		if ok && path == "" {
			t.Errorf("plainWords(%q): no path", tc.line)
		}
	}
}

package main

import (
	"os"
	"strings"
	"testing"

	"github.com/ipcctl/ipcctl/commands"
	"github.com/rogpeppe/go-internal/txtar"
)

// TestExamplesAreTested fails when an example of the man page and --help
// is not run, as it is written, by testscripts/examples.txtar: every line
// of every example must be the whole of one of the script's files.
func TestExamplesAreTested(t *testing.T) {
	a, err := txtar.ParseFile("testscripts/examples.txtar")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]bool{}
	for _, f := range a.Files {
		files[strings.TrimSuffix(string(f.Data), "\n")] = true
	}
	for _, ex := range commands.Examples() {
		for _, line := range strings.Split(ex, "\n") {
			if !files[line] {
				t.Errorf("the example %q is not a file of testscripts/examples.txtar", line)
			}
		}
	}
	if _, err := os.Stat("testscripts/examples.txtar"); err != nil {
		t.Fatal(err)
	}
}

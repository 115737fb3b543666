package main

import (
	"os"
	"testing"

	"github.com/ipcctl/ipcctl/commands"
)

// TestGeneratedFiles fails when the committed man page or completion
// scripts differ from what the command definitions generate.
func TestGeneratedFiles(t *testing.T) {
	files, err := commands.GeneratedFiles(commands.NewApp(""))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range files {
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%v; run go generate", err)
			continue
		}
		if string(got) != want {
			t.Errorf("%s is out of date; run go generate", path)
		}
	}
}

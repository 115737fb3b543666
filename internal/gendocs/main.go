// Command gendocs writes the man page and the completion scripts from the
// command definitions. "go generate" runs it at the repository root.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ipcctl/ipcctl/commands"
)

func main() {
	if err := generate(); err != nil {
		fmt.Fprintf(os.Stderr, "gendocs: error: %v\n", err)
		os.Exit(1)
	}
}

func generate() error {
	files, err := commands.GeneratedFiles(commands.NewApp(""))
	if err != nil {
		return err
	}
	for path, content := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

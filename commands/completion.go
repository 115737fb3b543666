package commands

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"
)

// completionShells lists the shells with a completion script, and where
// the script ships in the repository.
var completionShells = []struct{ name, file string }{
	{"bash", "completions/ipcctl.bash"},
	{"zsh", "completions/_ipcctl"},
	{"fish", "completions/ipcctl.fish"},
}

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script",
		ArgsUsage: "bash|zsh|fish",
		Description: "Print a completion script for bash, zsh or fish on stdout. It completes " +
			"commands, flags, flag values, and service names from the sockets of the run " +
			"directory (--rundir, $IPC_RUNDIR, $RUNDIR or /tmp/.libipc-run). The same scripts " +
			"ship in the completions directory of the source tree.\n\n" +
			"  source <(ipcctl completion bash)\n" +
			"  ipcctl completion zsh > \"${fpath[1]}/_ipcctl\"\n" +
			"  ipcctl completion fish > ~/.config/fish/completions/ipcctl.fish",
		Action: runCompletion,
	}
}

func runCompletion(c *cli.Context) error {
	if err := checkArgs(c, 1, 1); err != nil {
		return err
	}
	script, err := CompletionScript(c.App, c.Args().First())
	if err != nil {
		return err
	}
	_, err = io.WriteString(c.App.Writer, script)
	return err
}

// CompletionScript returns the completion script of app for shell: bash,
// zsh or fish.
func CompletionScript(app *cli.App, shell string) (string, error) {
	m := docModel(app)
	switch shell {
	case "bash":
		return bashCompletion(m), nil
	case "zsh":
		return zshCompletion(m), nil
	case "fish":
		return fishCompletion(m), nil
	}
	return "", UsageErrorf("no completion for shell %q: want bash, zsh or fish", shell)
}

// GeneratedFiles returns the files generated from app's definitions, by
// their path in the source tree: the man page and the completion scripts.
// "go generate" writes them and a test checks that they are up to date.
func GeneratedFiles(app *cli.App) (map[string]string, error) {
	files := map[string]string{"man/ipcctl.1": ManPage(app)}
	for _, sh := range completionShells {
		script, err := CompletionScript(app, sh.name)
		if err != nil {
			return nil, fmt.Errorf("%s completion: %w", sh.name, err)
		}
		files[sh.file] = script
	}
	return files, nil
}

// Command ipcctl lets shell scripts do LibIPC-style IPC over Unix sockets.
// See README.md and man/ipcctl.1.
package main

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/ipcctl/ipcctl/commands"
)

// version is set at link time (-ldflags "-X main.version=v1.2.3"); when it
// is not, the module version recorded by "go install" is used.
var version string

func main() {
	os.Exit(run())
}

// run runs ipcctl on os.Args and returns its exit status.
func run() int {
	err := commands.Run(commands.NewApp(versionString()), os.Args)
	if err != nil && !commands.IsSilent(err) {
		fmt.Fprintf(os.Stderr, "ipcctl: error: %v\n", err)
	}
	return commands.ExitCode(err)
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

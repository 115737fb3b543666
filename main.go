// Command ipcctl lets shell scripts do LibIPC-style IPC over Unix sockets.
// See README.md and man/ipcctl.1.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/ipcctl/ipcctl/commands"
)

// version is set at link time (-ldflags "-X main.version=v1.2.3"); when it
// is not, the module version recorded by "go install" is used.
var version string

// commit is the commit the binary was built from, set at link time
// (-ldflags "-X main.commit=$(git rev-parse --short=12 HEAD)", as README's
// install command does) for builds that record no VCS information: with
// -buildvcs=false, or where go cannot run git.
var commit string

func main() {
	os.Exit(run())
}

// run runs ipcctl on os.Args and returns its exit status.
func run() int {
	err := commands.Run(commands.NewAppFor(versionString(), os.Args), os.Args)
	if err != nil && !commands.IsSilent(err) {
		fmt.Fprintf(os.Stderr, "ipcctl: error: %v\n", err)
	}
	return commands.ExitCode(err)
}

// versionString is what --version prints after "ipcctl version": the
// version, the commit it was built from and the Go release that built it,
// as the build recorded them.
func versionString() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return fmt.Sprintf("%s (commit %s, %s)", releaseOf(nil), commitOf(&debug.BuildInfo{}), runtime.Version())
	}
	return fmt.Sprintf("%s (commit %s, %s)", releaseOf(bi), commitOf(bi), bi.GoVersion)
}

// releaseOf is the version: set at link time, else the module version
// recorded by "go install", else "devel".
func releaseOf(bi *debug.BuildInfo) string {
	if version != "" {
		return version
	}
	if bi != nil && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// commitOf is the VCS revision the binary was built from, with
// "-modified" when the tree had changes; else the commit set at link
// time; "unknown" when the build recorded neither (go run, go test, a
// build outside the repository).
func commitOf(bi *debug.BuildInfo) string {
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "-modified"
			}
		}
	}
	switch {
	case rev == "" && commit != "":
		return commit
	case rev == "":
		return "unknown"
	}
	return rev[:min(len(rev), 12)] + modified
}

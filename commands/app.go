// Package commands defines the ipcctl command line: the global flags, one
// file per subcommand, and the mapping of errors to exit statuses.
//
// Output rules, for every command: data goes to stdout, one event or
// payload per line (or one JSON object per line); everything meant for a
// human goes to stderr as "ipcctl: error: ..." in lower case with no final
// period. Commands parse and print; the engine in package ipc does the IPC.
package commands

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"
)

// commandTable lists the subcommands in the order the help shows them:
// the name and one-line usage that ipcctl --help lists (a test checks
// them against the definitions), and the constructor of the full
// definition, with its flags, help text and action. A new command is one
// line here.
var commandTable = []struct {
	name, usage string
	define      func() *cli.Command
}{
	{"serve", "become a service: print its events, or run a command per client or per message", serveCommand},
	{"send", "send messages to a service, and optionally wait for replies", sendCommand},
	{"listen", "print every message a service sends (subscriber)", listenCommand},
	{"connect", "talk to a service: stdin lines out, messages in", connectCommand},
	{"switch", "relay between two endpoints (service, tcp, tls, ws, udp, http), or be a TCPd", switchCommand},
	{"timer", "print a timer event every DUR", timerCommand},
	{"dump", "list services, tap one to print its traffic, or decode captured frames", dumpCommand},
	{"completion", "print a shell completion script", completionCommand},
}

// NewApp returns the ipcctl application with every command fully
// defined, as the man page, the completions and the tests see it. version
// is what --version prints.
func NewApp(version string) *cli.App {
	return newApp(version, globalFlags(), func(string) bool { return true })
}

// NewAppFor returns the ipcctl application for running the command line
// args (args[0] is the program name): only the command that args name is
// fully defined, the others have just the name and usage that ipcctl
// --help lists. Every start builds the app and one command runs, so the
// flags and help of the others would be built for nothing.
func NewAppFor(version string, args []string) *cli.App {
	flags := globalFlags()
	name := commandName(args, flagsTakingValue(flags))
	full := func(cmd string) bool { return cmd == name }
	switch name {
	case "help", "completion":
		// cli's help command shows any command's help; completion
		// scripts cover every command.
		full = func(string) bool { return true }
	}
	return newApp(version, flags, full)
}

// newApp returns the application with the global flags and the
// commands, those for which full is true fully defined.
func newApp(version string, flags []cli.Flag, full func(name string) bool) *cli.App {
	app := &cli.App{
		Name:      "ipcctl",
		Usage:     "LibIPC-style IPC over Unix sockets for shell scripts",
		UsageText: "ipcctl [global options] command [options] [arguments...]",
		Version:   version,
		Description: "ipcctl lets a shell script be a service, a client, a subscriber or a relay " +
			"of LibIPC-style services: Unix stream sockets named after the service in a run " +
			"directory, carrying messages framed as a 4-byte big-endian length and the payload. " +
			"Every event becomes one line of text or one JSON object on stdout; errors go to " +
			"stderr. Flags may come before or after the arguments; \"--\" ends the flags, so " +
			"a payload that starts with \"-\" can be sent.",
		// --version is one of our own flags: cli's version flag would take
		// -v, which is --verbose here.
		HideVersion:    true,
		Flags:          flags,
		Before:         checkGlobals,
		Action:         rootAction,
		OnUsageError:   onUsageError,
		ExitErrHandler: func(*cli.Context, error) {},
	}
	app.Commands = make([]*cli.Command, 0, len(commandTable))
	for _, entry := range commandTable {
		cmd := &cli.Command{Name: entry.name, Usage: entry.usage}
		if full(entry.name) {
			cmd = entry.define()
		}
		if cmd.OnUsageError == nil {
			cmd.OnUsageError = onUsageError
		}
		// "ipcctl send help" sends to the service named help.
		cmd.HideHelpCommand = true
		app.Commands = append(app.Commands, cmd)
	}
	withHelpExtras(app)
	return app
}

// Run runs app on the command line args (args[0] is the program name),
// after moving flags written after positional arguments in front of them.
func Run(app *cli.App, args []string) error {
	if app.Metadata == nil {
		app.Metadata = map[string]any{}
	}
	app.Metadata[argsKey] = args
	err := app.Run(reorderArgs(app, args))
	// cli's help command fails with its own message and status 3.
	var exit cli.ExitCoder
	if topic, ok := strings.CutPrefix(fmt.Sprint(err), "No help topic for "); ok && errors.As(err, &exit) {
		return UsageErrorf("unknown command %s (see 'ipcctl --help')", topic)
	}
	return err
}

// rootAction runs when no subcommand is given.
func rootAction(c *cli.Context) error {
	if c.Bool("version") {
		_, err := fmt.Fprintf(c.App.Writer, "ipcctl version %s\n", c.App.Version)
		return err
	}
	if c.NArg() > 0 {
		return UsageErrorf("unknown command %q (see 'ipcctl --help')", c.Args().First())
	}
	// A bare "ipcctl" shows the help, on stderr since it is not data.
	out := c.App.Writer
	c.App.Writer = c.App.ErrWriter
	defer func() { c.App.Writer = out }()
	if err := cli.ShowAppHelp(c); err != nil {
		return err
	}
	return UsageErrorf("missing command")
}

// signalContext returns a context that is cancelled on SIGINT, SIGTERM or
// SIGHUP (a closed terminal, or a service manager's stop), for commands
// that end cleanly when interrupted.
func signalContext(c *cli.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
}

package commands

import (
	"io"
	"strings"

	"github.com/ipcctl/ipcctl/format"
	"github.com/ipcctl/ipcctl/ipc"
	"github.com/urfave/cli/v2"
)

// Globals holds the global flags, checked, as every command sees them.
type Globals struct {
	// RunDir is --rundir as given. Empty means the engine resolves it
	// (ipc.ResolveRunDir: $IPC_RUNDIR, $RUNDIR, then LibIPC's default).
	RunDir string
	// JSON is true for --format json (or --json), false for text.
	JSON bool
	// Color is --color; format.UseColor decides from it.
	Color format.ColorMode
	// Quiet (--quiet, -q) silences what is neither data nor an error.
	Quiet bool
	// Verbose (--verbose, -v) adds progress notes on stderr.
	Verbose bool
	// TrustOwners (--trust-owner, $IPC_TRUST_OWNER) are the users whose
	// sockets clients trust besides the run directory's owner, the user
	// and root; nil when none is given.
	TrustOwners []int
	// Stdout receives data; Stderr receives messages for the user.
	Stdout, Stderr io.Writer
}

func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "rundir", Usage: "look for services in `DIR` (default $IPC_RUNDIR, $RUNDIR, /tmp/.libipc-run)", TakesFile: true},
		&cli.StringSliceFlag{
			Name:    "trust-owner",
			Usage:   "let clients talk to a socket of `USER` (name or number; repeatable) besides the run directory's owner, you and root",
			EnvVars: []string{ipc.TrustEnv},
		},
		&cli.StringFlag{Name: "format", Usage: "print events as `text|json`", Value: "text"},
		&cli.BoolFlag{Name: "json", Usage: "same as --format json", DisableDefaultText: true},
		&cli.StringFlag{Name: "color", Usage: "colour output `auto|always|never`", Value: "auto"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only data and errors: no listening, connection or disconnection events, no notes", DisableDefaultText: true},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "print more: serve's sent messages, switch's traffic, clients' connection notes on stderr", DisableDefaultText: true},
		&cli.BoolFlag{Name: "version", Usage: "print the version and exit", DisableDefaultText: true},
	}
}

// globalsOf returns the global flags of the command line c belongs to. A
// bad --format or --color value is a usage error.
func globalsOf(c *cli.Context) (Globals, error) {
	g := Globals{
		RunDir:  c.String("rundir"),
		Quiet:   c.Bool("quiet"),
		Verbose: c.Bool("verbose"),
		Stdout:  c.App.Writer,
		Stderr:  c.App.ErrWriter,
	}
	switch f := c.String("format"); f {
	case "text":
		g.JSON = c.Bool("json")
		if g.JSON && c.IsSet("format") {
			return g, UsageErrorf("--json and --format text contradict each other")
		}
	case "json":
		g.JSON = true
	default:
		return g, UsageErrorf("bad --format %q: want text or json", f)
	}
	for _, u := range c.StringSlice("trust-owner") {
		uids, err := ipc.ParseOwners(u)
		if err != nil {
			return g, UsageErrorf("--trust-owner: %v", err)
		}
		g.TrustOwners = append(g.TrustOwners, uids...)
	}
	color, err := format.ParseColorMode(c.String("color"))
	if err != nil {
		return g, UsageErrorf("bad --color %q: want auto, always or never", c.String("color"))
	}
	g.Color = color
	return g, nil
}

// Mode returns the output mode of events: format.JSON or format.Text.
func (g Globals) Mode() format.Mode {
	if g.JSON {
		return format.JSON
	}
	return format.Text
}

// Encoder returns the encoder of the events a command prints on stdout,
// in the --format and with the --quiet chosen.
func (g Globals) Encoder() format.Encoder {
	return format.NewEncoder(g.Stdout, g.Mode(), format.WithQuiet(g.Quiet))
}

// checkGlobals checks the global flags before any command runs.
func checkGlobals(c *cli.Context) error {
	_, err := globalsOf(c)
	return err
}

// checkArgs returns a usage error unless c has at least min and at most
// max positional arguments; max < 0 means no limit.
func checkArgs(c *cli.Context, min, max int) error {
	n := c.NArg()
	switch {
	case n < min:
		what := "argument"
		if words := strings.Fields(c.Command.ArgsUsage); n < len(words) {
			what += " " + strings.Trim(words[n], "[].")
		}
		return UsageErrorf("missing %s (usage: %s)", what, usageLine(c))
	case max >= 0 && n > max:
		return UsageErrorf("unexpected argument %q (usage: %s)", c.Args().Get(max), usageLine(c))
	}
	return nil
}

// usageLine returns the one-line synopsis of c's command.
func usageLine(c *cli.Context) string {
	s := "ipcctl " + c.Command.Name
	if hasVisibleFlags(c.Command.Flags) {
		s += " [options]"
	}
	if c.Command.ArgsUsage != "" {
		s += " " + c.Command.ArgsUsage
	}
	return s
}

func hasVisibleFlags(flags []cli.Flag) bool {
	for _, f := range flags {
		if vf, ok := f.(cli.VisibleFlag); ok && vf.IsVisible() && !isHelpFlag(f) {
			return true
		}
	}
	return false
}

func isHelpFlag(f cli.Flag) bool {
	return cli.HelpFlag != nil && f.Names()[0] == cli.HelpFlag.Names()[0]
}

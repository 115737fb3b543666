package commands

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"
)

// The help of every command ends with its examples, the same ones as the
// man page's EXAMPLES (manExamples), and the help of ipcctl with the exit
// statuses, so that --help alone is enough to write a script.

// withHelpExtras gives app's help and each command's help their examples
// and exit statuses, and drops the "(default: ...)" of flags whose default
// says nothing (false, 0, 0s, "").
func withHelpExtras(app *cli.App) {
	quietDefaults(app.Flags)
	for _, cmd := range app.Commands {
		quietDefaults(cmd.Flags)
	}
	extrasPrinterOnce.Do(func() {
		// The sections are added as help is printed, not when the app is
		// built: every run builds the app, few print help.
		plain := cli.HelpPrinter
		cli.HelpPrinter = func(w io.Writer, templ string, data any) {
			switch d := data.(type) {
			case *cli.App:
				if templ == cli.AppHelpTemplate {
					templ += exitStatusHelp()
				}
			case *cli.Command:
				// cli shows a command by the subcommand template when asked
				// with --help; no ipcctl command has subcommands.
				if len(d.Subcommands) == 0 && (templ == cli.CommandHelpTemplate || templ == cli.SubcommandHelpTemplate) {
					templ = cli.CommandHelpTemplate + examplesHelp(d.Name)
				}
			}
			plain(w, templ, data)
		}
	})
}

var extrasPrinterOnce sync.Once

// exitStatusHelp is the EXIT STATUS section of ipcctl --help.
func exitStatusHelp() string {
	var b strings.Builder
	b.WriteString("\nEXIT STATUS:\n")
	for _, e := range ExitStatuses {
		fmt.Fprintf(&b, "   %-5d %s\n", e.Status, e.Meaning)
	}
	return b.String()
}

// examplesHelp is the EXAMPLES section of the help of command name, ""
// when it has none.
func examplesHelp(name string) string {
	var b strings.Builder
	for _, e := range manExamples {
		if e.command != name {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("\nEXAMPLES:\n")
		}
		fmt.Fprintf(&b, "   %s\n", e.text)
		for _, line := range strings.Split(e.lines, "\n") {
			fmt.Fprintf(&b, "     %s\n", line)
		}
	}
	return b.String()
}

// quietDefaults hides the default of flags whose default is their zero
// value: "(default: false)" tells nothing. Bool flags have a switch for
// it; the others get it through cli's flag printer, wrapped once.
func quietDefaults(flags []cli.Flag) {
	for _, f := range flags {
		if b, ok := f.(*cli.BoolFlag); ok {
			b.DisableDefaultText = true
		}
	}
	quietStringerOnce.Do(func() {
		plain := cli.FlagStringer
		cli.FlagStringer = func(f cli.Flag) string {
			s := plain(f)
			for _, zero := range []string{" (default: 0)", " (default: 0s)", ` (default: "")`} {
				s = strings.TrimSuffix(s, zero)
			}
			return s
		}
	})
}

var quietStringerOnce sync.Once

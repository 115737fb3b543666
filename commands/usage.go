package commands

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// durationText says what a duration looks like, in every error about one.
const durationText = "a duration such as " + durationExamples

// durationExamples are the durations the errors and the help show.
const durationExamples = "500ms, 2s or 1m30s"

// argsKey is where Run keeps the command line in the app's Metadata, so
// that a flag error can spell a flag as the user typed it.
const argsKey = "args"

// onUsageError turns cli's flag parsing errors into a *UsageError with the
// flag spelled as the user typed it, what a good value looks like, and
// how to pass an argument that starts with "-".
func onUsageError(c *cli.Context, err error, isSubcommand bool) error {
	help := "ipcctl --help"
	if isSubcommand {
		help = "ipcctl " + c.Command.Name + " --help"
	}
	return &UsageError{Err: fmt.Errorf("%s (see '%s')", flagErrorText(c, err, isSubcommand), help)}
}

// flagErrorText rewrites the messages of package flag, which spell every
// flag with one dash ("-rundir") and say only "parse error" of a bad value.
func flagErrorText(c *cli.Context, err error, isSubcommand bool) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return unknownFlagText(c, name, isSubcommand)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return fmt.Sprintf("flag %s needs a value", typed(c, name))
	}
	// invalid value "x" for flag -timeout: parse error
	if before, after, ok := strings.Cut(msg, " for flag -"); ok {
		name, reason, _ := strings.Cut(after, ": ")
		if want := wantedValue(c, name); want != "" {
			reason = "want " + want
		}
		return fmt.Sprintf("%s for %s: %s", strings.Replace(before, "invalid value", "bad value", 1), typed(c, name), reason)
	}
	if u := errors.Unwrap(err); u != nil {
		return u.Error()
	}
	return msg
}

// unknownFlagText explains an unknown flag. A "flag" that starts with a
// digit is a negative number or duration; on a command that takes
// messages, it may be a message: both go after "--".
func unknownFlagText(c *cli.Context, name string, isSubcommand bool) string {
	flag := typed(c, name)
	text := "unknown flag " + flag
	if !isSubcommand {
		return text
	}
	cmd := "ipcctl " + c.Command.Name
	switch {
	case name != "" && (name[0] >= '0' && name[0] <= '9' || name[0] == '.'):
		return fmt.Sprintf("%s: an argument that starts with \"-\" goes after \"--\" (%s -- %s)", text, cmd, flag)
	case strings.Contains(c.Command.ArgsUsage, "MSG"):
		return fmt.Sprintf("%s: to send a message that starts with \"-\", put \"--\" before it (%s NAME -- %s)", text, cmd, flag)
	}
	return text
}

// wantedValue says what a good value of flag name looks like, or "" when
// the parser's own reason says it.
func wantedValue(c *cli.Context, name string) string {
	switch lookupFlag(c, name).(type) {
	case *cli.DurationFlag:
		return durationText
	case *cli.IntFlag:
		return "a whole number"
	}
	return ""
}

// lookupFlag returns the flag of c's command, or the global flag, called
// name; nil when there is none.
func lookupFlag(c *cli.Context, name string) cli.Flag {
	var scopes [][]cli.Flag
	if c.Command != nil {
		scopes = append(scopes, c.Command.Flags)
	}
	scopes = append(scopes, c.App.Flags)
	for _, flags := range scopes {
		for _, f := range flags {
			for _, n := range f.Names() {
				if n == name {
					return f
				}
			}
		}
	}
	return nil
}

// typed spells flag name as it was typed on the command line ("-hello"
// or "--hello"), or as it is typed usually when it is not found: -q,
// --quiet.
func typed(c *cli.Context, name string) string {
	args, _ := c.App.Metadata[argsKey].([]string)
	for _, a := range args {
		if a == "--" {
			break
		}
		if strings.HasPrefix(a, "-") && flagName(a) == name {
			before, _, _ := strings.Cut(a, "=")
			return before
		}
	}
	return dashed(name)
}

// dashed spells a flag name the way it is typed: -q, --quiet.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

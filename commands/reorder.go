package commands

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// reorderArgs lets flags follow positional arguments, which cli, like
// package flag, does not: parsing stops at the first argument that is not
// a flag. It returns args (args[0] is the program name) with the global
// flags moved in front of the subcommand, and the subcommand's own flags in
// front of its arguments, which follow a "--" so that none of them is taken
// for a flag. A "--" on the command line ends the flags: what follows is
// left as arguments. Unknown flags join the flags so that cli reports them.
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	global := flagsTakingValue(app.Flags)
	i := commandIndex(args, global)
	if i < 0 || i == len(args) {
		return args
	}
	// The global flags before the subcommand stay where they are.
	out := append([]string(nil), args[:i]...)
	name, rest := args[i], args[i:]
	cmd := findCommand(app.Commands, name)
	if cmd == nil || len(cmd.Subcommands) > 0 || cmd.SkipFlagParsing {
		return append(out, rest...)
	}

	own := flagsTakingValue(cmd.Flags)
	if cli.HelpFlag != nil && !cmd.HideHelp {
		for _, n := range cli.HelpFlag.Names() {
			own[n] = false
		}
	}
	var globals, flags, positional []string
	rest = rest[1:]
	for len(rest) > 0 {
		if rest[0] == "--" {
			positional = append(positional, rest[1:]...)
			break
		}
		n := flagLen(rest, own, global)
		switch {
		case n == 0:
			positional = append(positional, rest[0])
			n = 1
		case n < 0:
			// A flag that wants a value at the very end: put it last so
			// that cli reports the missing value, not a wrong command.
			if isOwn(rest[0], own, global) {
				return concat(out, globals, []string{name}, flags, rest[:1])
			}
			return concat(out, globals, rest[:1])
		case isOwn(rest[0], own, global):
			flags = append(flags, rest[:n]...)
		default:
			globals = append(globals, rest[:n]...)
		}
		rest = rest[n:]
	}
	out = concat(out, globals, []string{name}, flags)
	if len(positional) > 0 {
		out = append(append(out, "--"), positional...)
	}
	return out
}

// commandIndex returns the index in args (args[0] is the program name) of
// the subcommand's name: the first argument that is neither a global flag
// nor a global flag's value. It is len(args) when there is none, and -1
// when a global flag wants a value at the very end.
func commandIndex(args []string, global map[string]bool) int {
	i := 1
	for i < len(args) {
		n := flagLen(args[i:], global)
		switch {
		case n == 0:
			return i
		case n < 0:
			return -1
		}
		i += n
	}
	return i
}

// commandName returns the name of the subcommand that args run, "" when
// they name none.
func commandName(args []string, global map[string]bool) string {
	if i := commandIndex(args, global); i > 0 && i < len(args) {
		return args[i]
	}
	return ""
}

// flagsTakingValue maps every name and alias of flags to whether the flag
// takes a value.
func flagsTakingValue(flags []cli.Flag) map[string]bool {
	m := make(map[string]bool)
	for _, f := range flags {
		tv, ok := f.(cli.DocGenerationFlag)
		for _, n := range f.Names() {
			m[n] = ok && tv.TakesValue()
		}
	}
	return m
}

// flagLen returns how many of args the flag at args[0] spans: 0 when
// args[0] is not a flag, 1 for a boolean or --flag=value, 2 for a flag and
// its value, -1 for a flag missing its value at the end. Flags are looked
// up in scopes in order; an unknown flag spans 1.
func flagLen(args []string, scopes ...map[string]bool) int {
	a := args[0]
	if len(a) < 2 || a[0] != '-' || a == "--" {
		return 0
	}
	if strings.Contains(a, "=") {
		return 1
	}
	for _, scope := range scopes {
		takesValue, ok := scope[flagName(a)]
		if !ok {
			continue
		}
		if !takesValue {
			return 1
		}
		if len(args) < 2 {
			return -1
		}
		return 2
	}
	return 1
}

// isOwn reports whether the flag a belongs to the command rather than to
// the global flags. A command's flag hides a global one of the same name,
// and unknown flags go to the command so that its help is suggested.
func isOwn(a string, own, global map[string]bool) bool {
	name := flagName(a)
	if _, ok := own[name]; ok {
		return true
	}
	_, ok := global[name]
	return !ok
}

// flagName returns the name in "-n", "--name" or "--name=value".
func flagName(a string) string {
	a = strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
	name, _, _ := strings.Cut(a, "=")
	return name
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

func concat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

package commands

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// The man page and the completion scripts are generated from the command
// definitions, read through the conventions below, so that a command needs
// nothing more than its *cli.Command:
//
//   - Usage is one line; Description is paragraphs separated by blank
//     lines, and lines indented by two spaces or more are shown as written
//     (for examples).
//   - ArgsUsage names the positional arguments: NAME, A or B (optionally in
//     [brackets]) is a service and completes to the sockets of the run
//     directory; FILE completes to files; a|b|c completes to those words; a
//     final "..." repeats the last argument.
//   - A flag's value placeholder is written in backquotes in its Usage
//     ("print events as `text|json`"); a|b|c there completes to the words,
//     and TakesFile completes to files.

// docFlag is a flag as the documentation sees it.
type docFlag struct {
	long, short string   // without dashes; either may be empty
	placeholder string   // empty for a boolean flag
	usage       string   // with the placeholder unquoted
	def         string   // default value, if worth showing
	env         []string // the variables it is read from when not given
	choices     []string
	file        bool
}

// argKind is what a positional argument completes to.
type argKind int

const (
	argOther argKind = iota
	argService
	argFile
	argChoices
)

// docArg is a positional argument.
type docArg struct {
	name    string
	kind    argKind
	choices []string
	repeat  bool
}

// docCommand is a subcommand.
type docCommand struct {
	name        string
	aliases     []string
	usage       string
	argsUsage   string
	description string
	flags       []docFlag
	args        []docArg
}

// docApp is the application as the documentation sees it.
type docApp struct {
	usage       string
	description string
	globals     []docFlag
	commands    []docCommand
}

// docModel reads app's definitions.
func docModel(app *cli.App) docApp {
	m := docApp{usage: app.Usage, description: app.Description, globals: docFlags(app.Flags)}
	if cli.HelpFlag != nil {
		m.globals = append(m.globals, docFlagOf(cli.HelpFlag))
	}
	for _, c := range app.Commands {
		if c.Hidden || c.Name == "help" {
			continue
		}
		m.commands = append(m.commands, docCommand{
			name:        c.Name,
			aliases:     c.Aliases,
			usage:       c.Usage,
			argsUsage:   c.ArgsUsage,
			description: c.Description,
			flags:       docFlags(c.Flags),
			args:        docArgs(c.ArgsUsage),
		})
	}
	return m
}

// docFlags returns the visible flags but --help, which is global.
func docFlags(flags []cli.Flag) []docFlag {
	var out []docFlag
	for _, f := range flags {
		if vf, ok := f.(cli.VisibleFlag); ok && vf.IsVisible() && !isHelpFlag(f) {
			out = append(out, docFlagOf(f))
		}
	}
	return out
}

func docFlagOf(f cli.Flag) docFlag {
	var d docFlag
	for _, n := range f.Names() {
		if len(n) == 1 && d.short == "" {
			d.short = n
		} else if len(n) > 1 && d.long == "" {
			d.long = n
		}
	}
	df, ok := f.(cli.DocGenerationFlag)
	if !ok {
		return d
	}
	d.placeholder, d.usage = unquoteUsage(df.GetUsage())
	if !df.TakesValue() {
		d.placeholder = ""
		return d
	}
	if d.placeholder == "" {
		d.placeholder = "VALUE"
	}
	if strings.Contains(d.placeholder, "|") {
		d.choices = strings.Split(d.placeholder, "|")
	}
	if v := df.GetValue(); v != "" && v != "0" && v != "0s" {
		d.def = v
	}
	d.env = df.GetEnvVars()
	switch f := f.(type) {
	case *cli.StringFlag:
		d.file = f.TakesFile
	case *cli.PathFlag:
		d.file = true
	}
	return d
}

// unquoteUsage splits "print events as `text|json`" into the placeholder
// and the usage without backquotes, as cli's help does.
func unquoteUsage(usage string) (placeholder, text string) {
	before, rest, ok := strings.Cut(usage, "`")
	if !ok {
		return "", usage
	}
	name, after, ok := strings.Cut(rest, "`")
	if !ok {
		return "", usage
	}
	return name, before + name + after
}

// docArgs reads an ArgsUsage such as "NAME [MSG...]".
func docArgs(argsUsage string) []docArg {
	var out []docArg
	for _, w := range strings.Fields(argsUsage) {
		a := docArg{name: strings.Trim(w, "[]")}
		a.name, a.repeat = strings.CutSuffix(a.name, "...")
		a.name = strings.Trim(a.name, "[]")
		switch {
		case strings.Contains(a.name, "|"):
			a.kind, a.choices = argChoices, strings.Split(a.name, "|")
		case a.name == "NAME" || a.name == "A" || a.name == "B":
			a.kind = argService
		case a.name == "FILE":
			a.kind = argFile
		}
		out = append(out, a)
	}
	return out
}

// names returns the flag as typed: "-q", "--quiet".
func (f docFlag) names() []string {
	var out []string
	if f.short != "" {
		out = append(out, "-"+f.short)
	}
	if f.long != "" {
		out = append(out, "--"+f.long)
	}
	return out
}

// names returns the command's name and aliases.
func (c docCommand) names() []string {
	return append([]string{c.name}, c.aliases...)
}

// flagNames returns the names of flags as typed, without repeats.
func flagNames(flags []docFlag) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range flags {
		for _, n := range f.names() {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}

// commandNames returns the names of the commands, with help.
func commandNames(m docApp) []string {
	var out []string
	for _, c := range m.commands {
		out = append(out, c.name)
	}
	return append(out, "help")
}

// allFlags returns the global flags, then the flags of every command.
func allFlags(m docApp) []docFlag {
	out := append([]docFlag(nil), m.globals...)
	for _, c := range m.commands {
		out = append(out, c.flags...)
	}
	return out
}

// allValueFlags returns the names, as typed and without repeats, of the
// flags that take a value anywhere.
func allValueFlags(m docApp) []string {
	var flags []docFlag
	for _, f := range allFlags(m) {
		if f.placeholder != "" {
			flags = append(flags, f)
		}
	}
	return flagNames(flags)
}

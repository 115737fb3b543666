package commands

import (
	"fmt"
	"strings"
)

// fishCompletion returns the fish completion script for m.
func fishCompletion(m docApp) string {
	var b strings.Builder
	b.WriteString(`# fish completion for ipcctl.
# Generated from the command definitions by "go generate"; do not edit.
# Install: copy it to ~/.config/fish/completions/ipcctl.fish.

# __ipcctl_args prints the words typed so far that are neither flags nor
# flag values: the command, then its arguments.
function __ipcctl_args
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l skip 0
    set -l ended 0
    for t in $tokens
        if test $skip = 1
            set skip 0
            continue
        end
        if test $ended = 0; and string match -q -- '-?*' $t
            switch $t
                case --
                    set ended 1
`)
	if vf := allValueFlags(m); len(vf) > 0 {
		fmt.Fprintf(&b, "                case %s\n                    set skip 1\n", strings.Join(vf, " "))
	}
	b.WriteString(`            end
            continue
        end
        echo $t
    end
end

function __ipcctl_no_command
    test (count (__ipcctl_args)) -eq 0
end

# __ipcctl_cmd NAMES: the command is one of NAMES (comma-separated).
function __ipcctl_cmd
    set -l args (__ipcctl_args)
    test (count $args) -gt 0; and contains -- $args[1] (string split , $argv[1])
end

# __ipcctl_at NAMES N: the command is one of NAMES and N arguments follow
# it (N+: at least N).
function __ipcctl_at
    set -l args (__ipcctl_args)
    test (count $args) -gt 0; and contains -- $args[1] (string split , $argv[1]); or return 1
    set -l n (math (count $args) - 1)
    set -l want (string trim -r -c + $argv[2])
    if string match -q '*+' $argv[2]
        test $n -ge $want
    else
        test $n -eq $want
    end
end

# __ipcctl_services prints the names of the sockets in the run directory.
function __ipcctl_services
    set -l dir /tmp/.libipc-run
    test -n "$RUNDIR"; and set dir $RUNDIR
    test -n "$IPC_RUNDIR"; and set dir $IPC_RUNDIR
    set -l tokens (commandline -opc)
    for i in (seq (count $tokens))
        switch $tokens[$i]
            case --rundir
                set -l j (math $i + 1)
                set -q tokens[$j]; and set dir $tokens[$j]
            case '--rundir=*'
                set dir (string replace -- --rundir= '' $tokens[$i])
        end
    end
    for f in $dir/*
        test -S $f; and string replace -r '.*/' '' -- $f
    end
end

complete -c ipcctl -f
`)
	for _, f := range m.globals {
		b.WriteString(fishFlag("", f))
	}
	for _, c := range m.commands {
		fmt.Fprintf(&b, "complete -c ipcctl -n __ipcctl_no_command -a %s -d %s\n", c.name, fishQuote(c.usage))
	}
	b.WriteString("complete -c ipcctl -n __ipcctl_no_command -a help -d 'show the help of a command'\n")
	fmt.Fprintf(&b, "complete -c ipcctl -n '__ipcctl_at help 0' -a %s\n", fishQuote(strings.Join(commandNames(m), " ")))
	for _, c := range m.commands {
		names := strings.Join(c.names(), ",")
		for _, f := range c.flags {
			b.WriteString(fishFlag("__ipcctl_cmd "+names, f))
		}
		for i, a := range c.args {
			action := fishArgAction(a)
			if action == "" {
				continue
			}
			n := fmt.Sprint(i)
			if a.repeat {
				n += "+"
			}
			fmt.Fprintf(&b, "complete -c ipcctl -n %s %s\n", fishQuote("__ipcctl_at "+names+" "+n), action)
		}
	}
	return b.String()
}

// fishFlag returns the complete line of f, under condition cond if any.
func fishFlag(cond string, f docFlag) string {
	s := "complete -c ipcctl"
	if cond != "" {
		s += " -n " + fishQuote(cond)
	}
	if f.short != "" {
		s += " -s " + f.short
	}
	if f.long != "" {
		s += " -l " + f.long
	}
	switch {
	case len(f.choices) > 0:
		s += " -x -a " + fishQuote(strings.Join(f.choices, " "))
	case f.file:
		s += " -r -F"
	case f.placeholder != "":
		s += " -x"
	}
	return s + " -d " + fishQuote(f.usage) + "\n"
}

func fishArgAction(a docArg) string {
	switch a.kind {
	case argService:
		return "-x -a '(__ipcctl_services)'"
	case argFile:
		return "-r -F"
	case argChoices:
		return "-x -a " + fishQuote(strings.Join(a.choices, " "))
	}
	return ""
}

// fishQuote quotes s for fish, where \ and ' are escaped inside quotes.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

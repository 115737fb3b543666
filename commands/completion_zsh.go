package commands

import (
	"fmt"
	"strings"
)

// zshCompletion returns the zsh completion script for m.
func zshCompletion(m docApp) string {
	var b strings.Builder
	b.WriteString(`#compdef ipcctl
# zsh completion for ipcctl.
# Generated from the command definitions by "go generate"; do not edit.
# Install: copy it as _ipcctl to a directory in $fpath.

# _ipcctl_services completes the names of the sockets in the run directory.
_ipcctl_services() {
  local dir=${opt_args[--rundir]:-${_ipcctl_rundir:-${IPC_RUNDIR:-${RUNDIR:-/tmp/.libipc-run}}}}
  local -a names
  names=( ${~dir}/*(N=:t) )
  compadd -a names
}

_ipcctl() {
  local curcontext=$curcontext state line ret=1 _ipcctl_rundir
  typeset -A opt_args
  local -a globals
  globals=(
`)
	for _, f := range m.globals {
		fmt.Fprintf(&b, "    %s\n", zshFlagSpec(f))
	}
	b.WriteString(`  )
  _arguments -C $globals \
    '1: :->command' \
    '*:: :->args' && ret=0
  _ipcctl_rundir=${opt_args[--rundir]}
  case $state in
    command)
      local -a cmds
      cmds=(
`)
	for _, c := range m.commands {
		fmt.Fprintf(&b, "        %s\n", shellQuote(c.name+":"+c.usage))
	}
	b.WriteString(`        'help:show the help of a command'
      )
      _describe -t commands 'ipcctl command' cmds && ret=0
      ;;
    args)
      curcontext=${curcontext%:*:*}:ipcctl-$words[1]:
      case $words[1] in
`)
	for _, c := range m.commands {
		fmt.Fprintf(&b, "        %s)\n          _arguments $globals", strings.Join(c.names(), "|"))
		for _, f := range c.flags {
			fmt.Fprintf(&b, " \\\n            %s", zshFlagSpec(f))
		}
		for i, a := range c.args {
			fmt.Fprintf(&b, " \\\n            %s", zshArgSpec(i, a))
		}
		b.WriteString(" && ret=0\n          ;;\n")
	}
	fmt.Fprintf(&b, "        help)\n          _arguments %s && ret=0\n          ;;\n",
		shellQuote("1:command:("+strings.Join(commandNames(m), " ")+")"))
	b.WriteString(`      esac
      ;;
  esac
  return ret
}

_ipcctl "$@"
`)
	return b.String()
}

// zshFlagSpec returns the _arguments spec of f.
func zshFlagSpec(f docFlag) string {
	desc := "[" + zshEscape(f.usage) + "]"
	value := ""
	if f.placeholder != "" {
		action := " "
		switch {
		case len(f.choices) > 0:
			action = "(" + strings.Join(f.choices, " ") + ")"
		case f.file:
			action = "_files"
		}
		value = ":" + zshEscape(f.placeholder) + ":" + action
	}
	names := f.names()
	if len(names) == 1 {
		eq := ""
		if f.placeholder != "" && f.long != "" {
			eq = "="
		}
		return shellQuote(names[0] + eq + desc + value)
	}
	// -q and --quiet exclude each other.
	excl := "(" + strings.Join(names, " ") + ")"
	short, long := names[0], names[1]
	if f.placeholder != "" {
		long += "="
	}
	return shellQuote(excl) + "{" + short + "," + long + "}" + shellQuote(desc+value)
}

// zshArgSpec returns the _arguments spec of the i-th positional argument.
func zshArgSpec(i int, a docArg) string {
	action := " "
	switch a.kind {
	case argService:
		action = "_ipcctl_services"
	case argFile:
		action = "_files"
	case argChoices:
		action = "(" + strings.Join(a.choices, " ") + ")"
	}
	pos := fmt.Sprint(i + 1)
	if a.repeat {
		pos = "*"
	}
	return shellQuote(pos + ":" + zshEscape(a.name) + ":" + action)
}

// zshEscape escapes the characters _arguments gives a meaning to.
func zshEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "[", `\[`, "]", `\]`, ":", `\:`).Replace(s)
}

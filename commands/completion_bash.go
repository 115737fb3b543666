package commands

import (
	"fmt"
	"strings"
)

// bashCompletion returns the bash completion script for m.
func bashCompletion(m docApp) string {
	var b strings.Builder
	b.WriteString(`# bash completion for ipcctl.
# Generated from the command definitions by "go generate"; do not edit.
# Install: source it, or copy it to /usr/share/bash-completion/completions/ipcctl.

# _ipcctl_services completes the names of the sockets in the run directory.
_ipcctl_services() {
    local dir=${IPC_RUNDIR:-${RUNDIR:-/tmp/.libipc-run}} i f
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ ${COMP_WORDS[i]} == --rundir ]]; then
            # bash splits --rundir=DIR into three words.
            if [[ ${COMP_WORDS[i+1]} == = ]]; then
                dir=${COMP_WORDS[i+2]}
            else
                dir=${COMP_WORDS[i+1]}
            fi
        fi
    done
    for f in "$dir"/*; do
        [[ -S $f && ${f##*/} == "$cur"* ]] && COMPREPLY+=("${f##*/}")
    done
}

_ipcctl_files() {
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -- "$cur"))
}

_ipcctl() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local cmd= n=0 i w skip= ended=
    COMPREPLY=()
    if [[ $cur == = ]]; then
        cur=
    elif [[ $prev == = ]]; then
        prev=${COMP_WORDS[COMP_CWORD-2]}
    fi

    # Find the command and count its arguments before the cursor.
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if [[ -n $skip ]]; then
            skip=
            continue
        fi
        if [[ -z $ended && $w == -?* ]]; then
            if [[ $w == -- ]]; then
                ended=1
            elif [[ ${COMP_WORDS[i+1]} == = ]]; then
                ((i += 2))
            else
                case $w in
`)
	fmt.Fprintf(&b, "                    %s) skip=1 ;;\n", bashPattern(allValueFlags(m)))
	b.WriteString(`                esac
            fi
            continue
        fi
        if [[ -z $cmd ]]; then
            cmd=$w
        else
            ((n++))
        fi
    done

`)
	writeBashFlagValues(&b, m)
	b.WriteString(`
    if [[ -z $ended && $cur == -* ]]; then
        case $cmd in
`)
	fmt.Fprintf(&b, "            '') w=%s ;;\n", bashWords(flagNames(m.globals)))
	for _, c := range m.commands {
		fmt.Fprintf(&b, "            %s) w=%s ;;\n", bashPattern(c.names()), bashWords(flagNames(append(c.flags, m.globals...))))
	}
	b.WriteString(`        esac
        COMPREPLY=($(compgen -W "$w" -- "$cur"))
        return
    fi
    if [[ -z $cmd ]]; then
`)
	fmt.Fprintf(&b, "        COMPREPLY=($(compgen -W %s -- \"$cur\"))\n", bashWords(commandNames(m)))
	b.WriteString(`        return
    fi
    case $cmd in
`)
	fmt.Fprintf(&b, "        help) [[ $n == 0 ]] && COMPREPLY=($(compgen -W %s -- \"$cur\")) ;;\n", bashWords(commandNames(m)))
	for _, c := range m.commands {
		if cases := bashArgCases(c.args); cases != "" {
			fmt.Fprintf(&b, "        %s)\n            case $n in\n%s            esac\n            ;;\n", bashPattern(c.names()), cases)
		}
	}
	b.WriteString(`    esac
}

complete -F _ipcctl ipcctl
`)
	return b.String()
}

// writeBashFlagValues writes the completion of the value after a flag.
func writeBashFlagValues(b *strings.Builder, m docApp) {
	b.WriteString("    case $prev in\n")
	seen := map[string]bool{}
	for _, f := range allFlags(m) {
		if f.placeholder == "" || seen[f.long+f.short] {
			continue
		}
		seen[f.long+f.short] = true
		action := "return"
		switch {
		case len(f.choices) > 0:
			action = fmt.Sprintf("COMPREPLY=($(compgen -W %s -- \"$cur\")); return", bashWords(f.choices))
		case f.file:
			action = "_ipcctl_files; return"
		}
		fmt.Fprintf(b, "        %s) %s ;;\n", bashPattern(f.names()), action)
	}
	b.WriteString("    esac\n")
}

// bashArgCases returns the cases, by argument index, completing args, or
// "" when no argument completes to anything.
func bashArgCases(args []docArg) string {
	var b strings.Builder
	any := false
	for i, a := range args {
		action := ":"
		switch a.kind {
		case argService:
			action = "_ipcctl_services"
		case argFile:
			action = "_ipcctl_files"
		case argChoices:
			action = fmt.Sprintf("COMPREPLY=($(compgen -W %s -- \"$cur\"))", bashWords(a.choices))
		}
		any = any || action != ":"
		index := fmt.Sprint(i)
		if a.repeat {
			index = "*"
		}
		fmt.Fprintf(&b, "                %s) %s ;;\n", index, action)
	}
	if !any {
		return ""
	}
	return b.String()
}

func bashPattern(words []string) string {
	if len(words) == 0 {
		return "--" // matches nothing a value flag could be
	}
	return strings.Join(words, "|")
}

func bashWords(words []string) string {
	return shellQuote(strings.Join(words, " "))
}

// shellQuote quotes s for sh, bash and zsh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

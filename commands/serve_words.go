package commands

import (
	"os/exec"
	"strings"
)

// A command line that is only words, such as "cat" or "tr a-z A-Z", means
// the same to the shell as its words run directly, so serve executes
// them itself, as make does: a shell started for each client or message
// only to exec the command costs a program load of its own. Anything the
// shell would give a meaning to goes through /bin/sh -c: quotes,
// expansions, globs, redirections, operators, comments, a variable
// assignment, a reserved word or built-in utility as the first word, and
// a command not found in PATH (so that the shell says so, with status 127).

// shellSpecial holds the characters that make a line need the shell.
const shellSpecial = "\"'\\$`*?[]~#&|;<>(){}!\n\r"

// shellFirstWords are the reserved words and built-in utilities of a POSIX
// shell (and of dash, the usual /bin/sh): a line starting with one runs
// through the shell, whose own version may differ from a program in PATH.
var shellFirstWords = map[string]bool{
	"!": true, ".": true, ":": true, "[": true, "alias": true, "bg": true, "break": true,
	"case": true, "cd": true, "command": true, "continue": true, "do": true, "done": true,
	"echo": true, "elif": true, "else": true, "esac": true, "eval": true, "exec": true,
	"exit": true, "export": true, "false": true, "fc": true, "fg": true, "fi": true, "for": true,
	"getopts": true, "hash": true, "if": true, "in": true, "jobs": true, "kill": true,
	"local": true, "printf": true, "pwd": true, "read": true, "readonly": true, "return": true,
	"set": true, "shift": true, "test": true, "then": true, "times": true, "trap": true,
	"true": true, "type": true, "ulimit": true, "umask": true, "unalias": true, "unset": true,
	"until": true, "wait": true, "while": true,
}

// plainWords returns the words of line and the program the first names
// when line means to the shell only "run these words"; ok is false when
// it needs the shell.
func plainWords(line string) (path string, words []string, ok bool) {
	if strings.ContainsAny(line, shellSpecial) {
		return "", nil, false
	}
	words = strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' })
	if len(words) == 0 || shellFirstWords[words[0]] || strings.Contains(words[0], "=") {
		return "", nil, false
	}
	path, err := exec.LookPath(words[0]) // an error too for a relative path found through PATH
	if err != nil {
		return "", nil, false
	}
	return path, words, true
}

package commands

import (
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// manEnvironment documents the environment variables ipcctl reads.
var manEnvironment = []struct{ name, text string }{
	{"IPC_RUNDIR", "The run directory, when --rundir is not given."},
	{"RUNDIR", "The run directory, when neither --rundir nor IPC_RUNDIR is given; the variable LibIPC programs read."},
	{"IPC_NETWORK", "Rules \"NAME URI\" separated by \";\", as in LibIPC: a client asked for service NAME reaches it " +
		"through URI (for example tcp://host:9000/pong, or nats://host:4222/svc.pong: each message a NATS " +
		"request) instead of the run directory."},
	{"IPC_TRUST_OWNER", "Users (names or numbers, separated by commas) whose sockets clients trust besides the run " +
		"directory's owner, the user and root, as --trust-owner gives them."},
	{"NO_COLOR", "When set and not empty, no colour is used, as with --color never."},
}

// manExamples are shown in EXAMPLES when their command is registered.
var manExamples = []struct{ command, text, lines string }{
	{"timer", "Print three ticks, one a second, then exit:", "ipcctl timer --count 3 1s"},
	{"timer", "Print ticks as JSON, for a pipeline:", "ipcctl --json timer --count 2 500ms | jq -c .time"},
	{"serve", "Become the service pong and print its events:", "ipcctl serve pong"},
	{"serve", "Answer every message with the output of a command, one process per connection " +
		"(serve makes its stdout line-buffered, so that a filter such as tr answers each line at once):",
		"ipcctl serve shout --exec 'tr a-z A-Z'"},
	{"send", "Send a message and print the reply:", "ipcctl send --wait pong hello"},
	{"send", "Send a payload that starts with a dash:", "ipcctl send pong -- --not-a-flag"},
	{"serve", "Answer each message with the output of a command run for it:",
		"ipcctl serve upper --handler 'tr a-z A-Z'"},
	{"listen", "Print every message a service sends, ten at most:", "ipcctl listen --count 10 news"},
	{"listen", "Keep listening while the service restarts:", "ipcctl listen --retry news"},
	{"connect", "Talk to a service, a line at a time (Ctrl-D ends):", "ipcctl connect pong"},
	{"connect", "Send a file's lines and print what comes back:", "ipcctl connect pong < lines.txt"},
	{"switch", "Make the local service pong reachable over TCP, one connection to pong per TCP client:",
		"ipcctl switch tcp://0.0.0.0:9000 pong"},
	{"switch", "Be a TCPd for every local service, and reach pong through it (from another machine, with that machine's name for 127.0.0.1):",
		"ipcctl switch tcp://0.0.0.0:9000\nIPC_NETWORK='pong tcp://127.0.0.1:9000/pong' ipcctl send --wait pong hello"},
	{"dump", "List the services of the run directory:", "ipcctl dump"},
	{"dump", "Print the next ten messages to and from pong:", "ipcctl dump pong --count 10"},
	{"completion", "Enable completion in the current bash:", "source <(ipcctl completion bash)"},
}

// ManPage returns the man page of app in roff, generated from its
// definitions.
func ManPage(app *cli.App) string {
	m := docModel(app)
	var b strings.Builder
	b.WriteString(".\\\" Generated from the command definitions by \"go generate\"; do not edit.\n")
	b.WriteString(".TH IPCCTL 1 \"\" \"ipcctl\" \"User Commands\"\n")
	fmt.Fprintf(&b, ".SH NAME\nipcctl \\- %s\n", roffEscape(m.usage))
	writeManSynopsis(&b, m)
	b.WriteString(".SH DESCRIPTION\n")
	writeRoffText(&b, m.description)
	b.WriteString(".PP\nService NAME listens at the Unix socket RUNDIR/NAME. The run directory is " +
		"\\fB\\-\\-rundir\\fR, else \\fB$IPC_RUNDIR\\fR, else \\fB$RUNDIR\\fR, else \\fI/tmp/.libipc\\-run\\fR, " +
		"so that ipcctl and LibIPC programs given the same directory find each other's services.\n")
	b.WriteString(".PP\n" + roffEscape("Clients (send, listen, connect, and switch or dump reaching a service) check "+
		"the run directory as serve does: a symlink, or a directory writable by others and owned by another user "+
		"than the caller and root, is refused with exit status 77. They also refuse, with 77, a socket that is "+
		"owned by, or listened on by a process of, a user other than the run directory's owner, the caller and "+
		"root, so that they never talk to a socket another user planted; --trust-owner USER (or $IPC_TRUST_OWNER) "+
		"names more users to trust.") + "\n")
	b.WriteString(".SH GLOBAL OPTIONS\n")
	writeManFlags(&b, m.globals)
	b.WriteString(".SH COMMANDS\n")
	for _, c := range m.commands {
		writeManCommand(&b, c)
	}
	b.WriteString(".SH ENVIRONMENT\n")
	for _, e := range manEnvironment {
		fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", e.name, roffEscape(e.text))
	}
	b.WriteString(".SH EXIT STATUS\n")
	for _, s := range ExitStatuses {
		fmt.Fprintf(&b, ".TP\n.B %d\n%s\n", s.Status, roffEscape(s.Meaning))
	}
	writeManLimits(&b)
	writeManExamples(&b, m)
	b.WriteString(".SH FILES\n")
	b.WriteString(".TP\n.I /tmp/.libipc\\-run/NAME\nThe socket of service NAME in LibIPC's default run directory.\n")
	b.WriteString(".TP\n.I RUNDIR/NAME.lock\nThe lock file LibIPC holds with flock(2) while it serves NAME; ipcctl honours it.\n")
	b.WriteString(".TP\n.I RUNDIR/.NAME.allow\n" + roffEscape("The allow list of a serve given --allow-uid or --allow-gid, "+
		"one \"uid N\" or \"gid N\" a line, there while it runs: clients read it to tell a refusal (exit 77) from a "+
		"service that closes the connection (exit 69), and dump NAME applies it.") + "\n")
	b.WriteString(".TP\n.I RUNDIR/.NAME.tapped\nThe socket of service NAME, moved aside while dump NAME taps it.\n")
	b.WriteString(".SH SEE ALSO\n.BR socat (1),\n.BR ncat (1),\n.BR nc (1),\n.BR unix (7)\n")
	return b.String()
}

func writeManSynopsis(b *strings.Builder, m docApp) {
	b.WriteString(".SH SYNOPSIS\n.B ipcctl\n[\\fIglobal options\\fR] \\fIcommand\\fR [\\fIoptions\\fR] [\\fIarguments\\fR]\n")
	for _, c := range m.commands {
		fmt.Fprintf(b, ".br\n.B ipcctl %s\n%s\n", c.name, roffSynopsisArgs(c))
	}
}

// roffSynopsisArgs returns "[options] NAME [MSG...]" with the arguments in
// italics.
func roffSynopsisArgs(c docCommand) string {
	var parts []string
	if len(c.flags) > 0 {
		parts = append(parts, "[\\fIoptions\\fR]")
	}
	for _, w := range strings.Fields(c.argsUsage) {
		name := strings.Trim(w, "[].")
		parts = append(parts, strings.Replace(roffEscape(w), roffEscape(name), "\\fI"+roffEscape(name)+"\\fR", 1))
	}
	return strings.Join(parts, " ")
}

func writeManCommand(b *strings.Builder, c docCommand) {
	fmt.Fprintf(b, ".SS \"%s\"\n", "ipcctl "+c.name+" "+strings.TrimSpace(roffEscape(c.argsUsage)))
	usage := c.usage
	if usage != "" {
		usage = strings.ToUpper(usage[:1]) + usage[1:] + "."
	}
	if len(c.aliases) > 0 {
		usage += " Also: " + strings.Join(c.aliases, ", ") + "."
	}
	writeRoffText(b, usage)
	writeRoffText(b, c.description)
	if len(c.flags) > 0 {
		b.WriteString(".PP\nOptions:\n.RS\n")
		writeManFlags(b, c.flags)
		b.WriteString(".RE\n")
	}
}

func writeManFlags(b *strings.Builder, flags []docFlag) {
	for _, f := range flags {
		var names []string
		for _, n := range f.names() {
			names = append(names, "\\fB"+roffEscape(n)+"\\fR")
		}
		head := strings.Join(names, ", ")
		if f.placeholder != "" {
			head += " \\fI" + roffEscape(f.placeholder) + "\\fR"
		}
		text := f.usage
		if f.def != "" {
			text += " (default: " + f.def + ")"
		}
		if len(f.env) > 0 {
			text += " [$" + strings.Join(f.env, ", $") + "]"
		}
		fmt.Fprintf(b, ".TP\n%s\n%s\n", head, roffEscape(text))
	}
}

func writeManExamples(b *strings.Builder, m docApp) {
	var names []string
	for _, c := range m.commands {
		names = append(names, c.name)
	}
	b.WriteString(".SH EXAMPLES\n")
	for _, e := range manExamples {
		if slices.Contains(names, e.command) {
			fmt.Fprintf(b, ".PP\n%s\n.PP\n.RS 4\n.nf\n%s\n.fi\n.RE\n", roffEscape(e.text), roffEscape(e.lines))
		}
	}
}

// writeRoffText writes text made of paragraphs separated by blank lines,
// where lines indented by two spaces or more are shown as written.
func writeRoffText(b *strings.Builder, text string) {
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		if strings.TrimSpace(para) == "" {
			continue
		}
		b.WriteString(".PP\n")
		literal := false
		for _, line := range strings.Split(para, "\n") {
			indented := strings.HasPrefix(line, "  ") || strings.HasPrefix(line, "\t")
			if indented != literal {
				if indented {
					b.WriteString(".RS 4\n.nf\n")
				} else {
					b.WriteString(".fi\n.RE\n")
				}
				literal = indented
			}
			if indented {
				line = strings.TrimSpace(line)
			}
			b.WriteString(roffEscape(line) + "\n")
		}
		if literal {
			b.WriteString(".fi\n.RE\n")
		}
	}
}

// roffEscape escapes text for roff: backslashes, dashes (so that flags can
// be copied from the page), and a leading dot or quote.
func roffEscape(s string) string {
	s = strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// Examples returns the command lines of the examples of the man page and
// --help, for the test that runs them.
func Examples() []string {
	var out []string
	for _, e := range manExamples {
		out = append(out, e.lines)
	}
	return out
}

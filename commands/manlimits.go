package commands

import (
	"fmt"
	"strings"
)

// manLimits are the limits and policies the man page lists in its LIMITS
// section, as docs/limits.md tells them at length.
var manLimits = []struct{ name, text string }{
	{"Message size", "A frame longer than --max-size (default 1MiB) is refused as its length prefix " +
		"arrives, before anything is allocated: an error event, the connection is closed, the service " +
		"goes on. A client that receives one exits 65. A length of 0 is an empty message."},
	{"Clients at once", "serve refuses clients past --max-clients (default 16384; 0: no bound): the new " +
		"client is closed at once and exits 69."},
	{"Memory of partial messages", "serve holds at most --max-buffered (default 64MiB, or 8 messages " +
		"of --max-size if more) for messages that have begun to arrive, all clients together, each " +
		"counted at its announced size; the client whose message would pass it is closed. A message " +
		"alone always fits."},
	{"Partial-message deadline", "A client of serve that began a message and did not finish it within " +
		"--frame-timeout (default 10s; 0: never) is closed, so a client sending byte by byte holds " +
		"neither a place nor memory for long. Bytes serve has not read yet do not count against it."},
	{"Idle clients", "--idle-timeout closes a client of serve with nothing received from it or written " +
		"to it for that long; off by default, since subscribers and interactive sessions may rightly " +
		"stay silent."},
	{"Switch pairs", "switch --idle-timeout closes a pair through which no whole message passed either " +
		"way for that long (default: never); --max-conns bounds the pairs at once (default: no bound). " +
		"A TLS handshake or a TCPd client's service name must come within 10s."},
	{"Send queues", "Each client of a service has a queue of 4MiB of messages to be written; a client " +
		"that does not read is closed when it is full, and the others are not slowed. Clients (send, " +
		"connect) wait for room instead of dropping."},
	{"Processes", "--max-procs (default 64) handlers run at once, each for at most --handler-timeout " +
		"(default 30s); an --exec process still running 3s after its client left is sent SIGTERM, then " +
		"SIGKILL 3s later."},
	{"What a crash loses", "A message is delivered whole or not at all. A client killed in the middle " +
		"of a message: the service reports an error for it and its disconnection, drops the partial " +
		"message, and keeps serving the others. A service killed: its clients see the end of the " +
		"connection at once, and one waiting for a reply exits 69; what it had read and not handled, and what it had queued and " +
		"not written, is lost; its stale socket is replaced by the next serve of the name."},
}

// writeManLimits writes the LIMITS section.
func writeManLimits(b *strings.Builder) {
	b.WriteString(".SH LIMITS\n")
	b.WriteString(".PP\n" + roffEscape("Past any limit the client concerned gets an error event and is "+
		"disconnected; the service and its other clients go on. docs/limits.md has the details.") + "\n")
	for _, l := range manLimits {
		fmt.Fprintf(b, ".TP\n.B %s\n%s\n", roffEscape(l.name), roffEscape(l.text))
	}
}

package commands

import (
	"strings"

	"github.com/ipcctl/ipcctl/ipc/bridge"
	"github.com/urfave/cli/v2"
)

// switchNATSFlags set up the nats:// endpoints of switch.
func switchNATSFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "nats-queue", Usage: "NATS queue group `GROUP` of the copies answering a subject (-: none, each copy answers)", Value: bridge.DefaultNATSQueue},
		&cli.DurationFlag{Name: "nats-timeout", Usage: "a NATS request, or a service's reply to one, fails after `DUR`", Value: bridge.DefaultNATSTimeout},
		&cli.IntFlag{Name: "nats-max-inflight", Usage: "at most `N` NATS requests in progress at once", Value: bridge.DefaultNATSMaxInFlight},
	}, natsAuthFlags()...)
}

const switchNATSDescription = "NATS (nats://HOST:PORT[,HOST:PORT...]/SUBJECT; nats:///SUBJECT for " +
	"the servers of $NATS_URL): the official NATS client connects, reconnects to the cluster's " +
	"servers when one goes away and subscribes again; each loss and return of the connection is " +
	"an event. --nats-creds and --nats-tls-* are the nats CLI's --creds and --tls* options.\n\n" +
	"  switch nats://HOST:PORT/SUBJECT NAME   answers the NATS requests on SUBJECT through the " +
	"service NAME, in the queue group --nats-queue (default ipcctl) so that several copies share " +
	"them: each request is one message to NAME and NAME's reply is the response. A connection to " +
	"NAME carries one request at a time, so that replies match requests; up to --nats-max-inflight " +
	"(default 64) are open at once and kept for the next requests, and 8 times as many may wait. A service that is down, closes " +
	"the connection or does not reply within --nats-timeout (that connection is then closed) is " +
	"answered with a NATS error (headers Nats-Service-Error and Nats-Service-Error-Code: 503, 502 " +
	"for a connection closed without a reply, 504 for the timeout), as are requests past the bound " +
	"(\"busy\", 503). A message published without " +
	"a reply subject goes to NAME as a one-way message, on a connection of its own.\n" +
	"  switch NAME nats://HOST:PORT/SUBJECT   becomes the service NAME whose clients reach a NATS " +
	"service: each message a client sends is a request to SUBJECT and the response is sent back " +
	"to it, one request at a time per client. No responder, no response within --nats-timeout " +
	"or an error response closes the client's connection with an error event (send -w exits 69). " +
	"IPC_NETWORK=\"NAME nats://HOST:PORT/SUBJECT\" does the same without a switch.\n\n" +
	"  ipcctl switch nats://127.0.0.1:4222/svc.pong pong\n" +
	"  ipcctl switch pong nats://127.0.0.1:4222/svc.pong"

// setSwitchNATS reads the NATS flags when an endpoint of b is a nats://
// one; its servers stand for --nats.
func setSwitchNATS(c *cli.Context, b *bridge.Bridge) error {
	e := b.From
	if e.Scheme != "nats" && b.To != nil {
		e = *b.To
	}
	if e.Scheme != "nats" {
		return nil
	}
	if b.To != nil && b.To.Scheme == "nats" && strings.ContainsAny(b.To.Path, "*>") {
		return UsageErrorf("cannot send requests to %s: its subject has a wildcard", b.To)
	}
	conn, err := natsOptionsOf(c, e.Host)
	if err != nil {
		return err
	}
	if c.Int("nats-max-inflight") < 1 {
		return UsageErrorf("bad --nats-max-inflight %d: want 1 or more", c.Int("nats-max-inflight"))
	}
	if c.Duration("nats-timeout") <= 0 {
		return UsageErrorf("--nats-timeout must be positive")
	}
	b.Options.NATS = bridge.NATSOptions{
		Conn:        conn,
		Queue:       c.String("nats-queue"),
		Timeout:     c.Duration("nats-timeout"),
		MaxInFlight: c.Int("nats-max-inflight"),
	}
	return nil
}

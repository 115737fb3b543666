package commands

import (
	"os"
	"strings"
	"time"

	"github.com/ipcctl/ipcctl/format"
	"github.com/ipcctl/ipcctl/ipc/bus/natsbus"
	"github.com/ipcctl/ipcctl/ipc/natsopt"
	"github.com/urfave/cli/v2"
)

// serveNatsDescription is the part of serve's help about --nats.
const serveNatsDescription = "With --bus and --nats URL[,URL...] (or --nats-prefix, with $NATS_URL), " +
	"the bus joins a NATS cluster: group G is the subject PREFIX.G (PREFIX is --nats-prefix, default " +
	"ipcctl.NAME), so the buses of several machines that share a prefix are one bus. A message reaches " +
	"the members of its group on every bus, once each; clients of the other buses have addresses " +
	"ADDR@ID; a call to a group without members here, or to ADDR@ID, is a NATS request (no responders: " +
	"undeliverable); NATS clients may publish to and request from PREFIX.G. Presence notices of the " +
	"other buses' clients carry bus=HOST/NAME. The events: \"nats-connected\", \"nats-disconnected\", " +
	"\"nats-reconnected\" (url=, error=), \"nats-error\", \"nats-lost\" (count=N, dir=in|out, error=: " +
	"messages lost while NATS or the bus could not keep up), \"bus-joined\" and \"bus-left\" (bus=HOST/NAME, " +
	"id=ID, count=N: its clients there, or gone). docs/nats.md describes the deployment."

// serveNatsFlags are serve's flags of a bus joined to NATS.
func serveNatsFlags() []cli.Flag {
	return append([]cli.Flag{natsURLFlag(),
		&cli.StringFlag{Name: "nats-prefix", Usage: "with --bus and --nats: the subjects of the groups begin with `PREFIX`. (default: ipcctl.NAME)"},
		&cli.DurationFlag{Name: "nats-heartbeat", Usage: "with --nats: tell the other buses every `DUR` that this one is there; one silent for 5 of them has left", Value: natsbus.DefaultHeartbeat},
	}, natsAuthFlags()...)
}

// serveNats is the NATS side of a bus, from the command line.
type serveNats struct {
	opts      natsopt.Options
	prefix    string
	label     string
	heartbeat time.Duration
}

// serveNatsOf reads the NATS flags of serve; nil when the bus stays on its
// machine.
func serveNatsOf(c *cli.Context, name string, isBus bool) (*serveNats, error) {
	joined := c.IsSet("nats") || c.IsSet("nats-prefix")
	if !joined {
		if f := natsAuthGiven(c); f != "" {
			return nil, UsageErrorf("--%s goes with --nats", f)
		}
		if c.IsSet("nats-heartbeat") {
			return nil, UsageErrorf("--nats-heartbeat goes with --nats")
		}
		return nil, nil
	}
	if !isBus {
		return nil, UsageErrorf("--nats and --nats-prefix go with --bus")
	}
	opts, err := natsOptionsOf(c, "")
	if err != nil {
		return nil, err
	}
	n := &serveNats{opts: opts, prefix: c.String("nats-prefix"), label: hostname() + "/" + name,
		heartbeat: c.Duration("nats-heartbeat")}
	if n.heartbeat <= 0 {
		return nil, UsageErrorf("--nats-heartbeat must be positive")
	}
	if n.prefix == "" {
		n.prefix = "ipcctl." + name
	}
	if !validPrefix(n.prefix) {
		return nil, UsageErrorf("--nats-prefix %q: want NATS subject tokens separated by \".\", without spaces, \"*\" or \">\"", n.prefix)
	}
	return n, nil
}

// validPrefix reports whether p can begin subjects.
func validPrefix(p string) bool {
	for _, tok := range strings.Split(p, ".") {
		if tok == "" || strings.ContainsAny(tok, "*> \t\r\n") {
			return false
		}
	}
	return true
}

// hostname is this machine's name, as presence notices show it.
func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}

// newLink connects the bus to NATS, before the bus is made.
func (s *server) newLink() error {
	n := s.cfg.nats
	f, err := natsbus.New(s.loop, natsbus.Options{NATS: n.opts, Prefix: n.prefix, Label: n.label,
		Heartbeat: n.heartbeat, Report: s.natsReport})
	if err != nil {
		return err
	}
	s.fed = f
	return nil
}

// natsReport prints one event of the bus's link to NATS.
func (s *server) natsReport(e natsbus.Event) {
	r := &format.Record{Event: string(e.Kind), Time: e.Time}
	add := func(k string, v any) { r.Fields = append(r.Fields, format.Field{Key: k, Value: v}) }
	if e.URL != "" {
		add("url", e.URL)
	}
	if e.Bus != "" {
		add("bus", e.Bus)
		add("id", e.Peer)
	}
	if e.Kind == natsbus.KindLost || e.Kind == natsbus.KindLeft || e.Kind == natsbus.KindJoined {
		add("count", e.Count)
	}
	if e.Dir != "" {
		add("dir", e.Dir)
	}
	if e.Err != nil {
		add("error", e.Err.Error())
	}
	if err := s.write(r); err != nil && s.busErr == nil {
		s.busErr = err
	}
}

// listening is the first event: a bus joined to NATS adds its id and
// subjects' prefix.
func (s *server) listening() *format.Record {
	r := listeningRecord(s.svc)
	if s.fed != nil {
		r.Fields = append(r.Fields, format.Field{Key: "id", Value: s.fed.ID()},
			format.Field{Key: "prefix", Value: s.cfg.nats.prefix})
	}
	return r
}

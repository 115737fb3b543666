package commands

import (
	"context"
	"strconv"
	"time"

	"github.com/ipcctl/ipcctl/format"
	"github.com/ipcctl/ipcctl/ipc"
	"github.com/ipcctl/ipcctl/ipc/bridge"
	"github.com/urfave/cli/v2"
)

const switchDescription = "Relay messages between two endpoints, both ways (LibIPC's switch, TCPd, " +
	"websocketd). ipcctl listens on A; every connection accepted there is paired with a new " +
	"connection to B, and messages flow both ways until either side closes, then both are " +
	"closed. When B cannot be reached, A's connection is closed with an error event; other " +
	"pairs go on. Each direction passes one message at a time, so a side that reads slowly " +
	"slows the other down instead of making the switch buffer. When one side ends cleanly (a " +
	"shell pipe reaching its end), what the other still sends is passed on until it ends too " +
	"or stays silent for --linger (default 1s; LibIPC peers cannot half-close). --idle-timeout " +
	"closes a pair through which no whole message passed, either way, for DUR (default 0: never), " +
	"with an error event: set it on a switch open to the network, so that a client that connects " +
	"and stays silent, or sends a message byte by byte, does not hold its pair for ever.\n\n" +
	"Endpoints:\n\n" +
	"  NAME, unix:NAME       the service NAME in the run directory. As A, ipcctl becomes the " +
	"service (with LibIPC's lock file; a stale socket is replaced, a live one refused); as B, " +
	"it connects to it. IPC_NETWORK does not apply to a switch.\n" +
	"  unix:/PATH            a Unix socket at an absolute path.\n" +
	"  tcp://HOST:PORT       TCP. As B, tcp://HOST:PORT/SERVICE first asks a TCPd for SERVICE.\n" +
	"  tls://HOST:PORT       TLS over TCP. Listening needs --cert and --key; there --ca makes " +
	"client certificates required and checked against it. Dialing checks the server against " +
	"--ca (else the system's roots) and presents --cert and --key when given.\n" +
	"  nats://HOST:PORT/SUBJECT  a NATS service (below).\n" +
	"  ws://HOST:PORT/PATH   WebSocket (wss:// for TLS, with the same flags): one WebSocket " +
	"message per message, text when the payload is valid UTF-8, else binary (--ws-binary: " +
	"always binary). Browsers from other origins than the server's host are refused unless " +
	"--origin allows them.\n" +
	"  udp://HOST:PORT       UDP: one datagram per message, taken as it is. As A, each sender " +
	"address is a client, replies go back to it, and it is forgotten once silent both ways for " +
	"--idle-timeout (default 30s for UDP); at most --max-conns senders (default 1024) are " +
	"followed. A datagram over --max-size, or past a bound, is dropped with an error event.\n" +
	"  http://HOST:PORT/PATH HTTP. As A, each request to PATH is a client with one message, its " +
	"body (POST; GET is an empty message), answered 200 with the first reply. Another path is " +
	"404, another method 405, a body over --max-size 413, a service that closes without a reply " +
	"502, more than --max-conns (default 64) requests at once 503, no reply within " +
	"--http-timeout (default 30s) 504. As B, each message is POSTed and each response body is " +
	"a message back.\n\n" +
	"Framing of tcp:// and tls:// sides (--framing, or ?framing= after one endpoint):\n\n" +
	"  ipc    LibIPC frames, a 4-byte big-endian length then the payload (default).\n" +
	"  line   one message per line; \"\\n\" or \"\\r\\n\" is removed on the way in and \"\\n\" " +
	"added on the way out. A line over --max-size ends that pair.\n" +
	"  raw    each read is a message, messages are written as they are: boundaries are lost.\n" +
	"  json   one JSON object per line, {\"data\":\"text\"} or {\"data_b64\":\"...\"}, both ways; " +
	"\"data\" is sent when the payload is valid UTF-8.\n\n" +
	"TCPd: with A only, tcp://HOST:PORT or tls://HOST:PORT, ipcctl is a TCPd. A client " +
	"writes the name of a local service as raw bytes in one write (at most 256 bytes; a final " +
	"newline or NUL is dropped); ipcctl connects to that service and answers the two bytes " +
	"\"ok\", then LibIPC frames flow both ways. For an unknown service it answers \"ne\" and " +
	"closes. Clients elsewhere reach it with IPC_NETWORK=\"NAME tcp://HOST:PORT/NAME\".\n\n" +
	"Events, one per line: listening (where, and to what), connection (pair id, peer), " +
	"disconnection, error; with --verbose or --format json also switch-rx (a message read from " +
	"one side) and switch-tx (passed on to the other), with dir=a>b or b>a and size. " +
	"--max-conns N bounds the pairs open at once: further clients are not accepted (they wait " +
	"in the socket's backlog) until a pair ends. On SIGINT or SIGTERM every pair is closed, a " +
	"service's socket removed, and ipcctl exits 0.\n\n" +
	"  ipcctl switch --framing line tcp://127.0.0.1:7000 pong\n" +
	"  ipcctl switch ws://0.0.0.0:8080/chat chat\n" +
	"  ipcctl switch tcp://0.0.0.0:9000            # TCPd\n" +
	"  ipcctl switch pong tcp://server:9000/pong   # a local stand-in for a remote service\n\n" +
	switchNATSDescription + "\n\n" + daemonDescription + "\n\n" + managerDescription + " For switch, a passed socket is taken for A: a Unix socket for a " +
	"service, a TCP socket listening on A's port for the network endpoints."

func switchCommand() *cli.Command {
	return &cli.Command{
		Name:        "switch",
		Usage:       "relay between two endpoints (service, tcp, tls, ws, udp, http), or be a TCPd",
		ArgsUsage:   "A [B]",
		Description: switchDescription,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "framing", Usage: "framing of tcp:// and tls:// sides: `ipc|line|raw|json`", Value: "ipc"},
			&cli.IntFlag{Name: "max-conns", Usage: "at most `N` pairs at once; others wait (0: no bound)"},
			&cli.DurationFlag{Name: "idle-timeout", Usage: "close a pair through which no message passed for `DUR` (0: never)"},
			&cli.DurationFlag{Name: "linger", Usage: "once one side of a pair ends, pass the other's messages until `DUR` of silence", Value: time.Second},
			flagMaxSize,
			&cli.StringFlag{Name: "cert", Usage: "TLS certificate `FILE` (PEM)", TakesFile: true},
			&cli.StringFlag{Name: "key", Usage: "TLS private key `FILE` (PEM)", TakesFile: true},
			&cli.StringFlag{Name: "ca", Usage: "trust the CA certificates in `FILE`; when listening, require client certificates", TakesFile: true},
			&cli.BoolFlag{Name: "ws-binary", Usage: "send every WebSocket message as binary", DisableDefaultText: true},
			&cli.StringSliceFlag{Name: "origin", Usage: "let web pages from `HOST` pattern open WebSockets (repeatable)"},
			flagHTTPTimeout,
		}, append(append(daemonFlags(), managerFlags()...), switchNATSFlags()...)...),
		Action: runSwitch,
	}
}

func runSwitch(c *cli.Context) error {
	g, err := globalsOf(c)
	if err != nil {
		return err
	}
	b, err := switchBridge(c, g)
	if err != nil {
		return err
	}
	ctx, stop := signalContext(c)
	defer stop()
	enc := g.Encoder()
	b.Report = func(ev bridge.BridgeEvent) {
		enc.Write(bridgeRecord(ev))
		enc.Flush()
	}
	mgr, err := managerOf(c)
	if err != nil {
		return err
	}
	if err := listenSwitch(b, g); err != nil {
		return err
	}
	enc.Write(switchListening(b))
	if err := enc.Flush(); err != nil {
		return err
	}
	defer mgr.exit()
	if err := mgr.ready("switching " + b.Addr() + " to " + switchTarget(b)); err != nil {
		return err
	}
	defer stoppingOnDone(ctx, mgr.stopping)()
	return b.Serve(ctx)
}

// stoppingOnDone runs stopping (telling the service manager the switch is
// stopping) as soon as ctx ends, and returns what to defer: it waits for
// stopping to finish, so that the process does not exit with the word
// still on its way.
func stoppingOnDone(ctx context.Context, stopping func()) func() {
	sent := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		stopping()
		close(sent)
	})
	return func() {
		if !stop() {
			<-sent
		}
	}
}

// switchBridge builds the bridge the command line describes.
func switchBridge(c *cli.Context, g Globals) (*bridge.Bridge, error) {
	role, err := switchRole(c)
	if err != nil || role != bridge.RoleSwitch {
		return daemonBridge(c, g, role, err)
	}
	if err := checkArgs(c, 1, 2); err != nil {
		return nil, err
	}
	opts, err := switchOptions(c, g)
	if err != nil {
		return nil, err
	}
	from, err := bridge.ParseEndpoint(c.Args().Get(0))
	if err != nil {
		return nil, UsageErrorf("%v", err)
	}
	b := &bridge.Bridge{
		From:     from,
		Options:  opts,
		MaxConns: c.Int("max-conns"),
		Linger:   c.Duration("linger"),
		Messages: g.Verbose || g.JSON,

		IdleTimeout: c.Duration("idle-timeout"),
	}
	if b.IdleTimeout < 0 {
		return nil, UsageErrorf("--idle-timeout must be positive (0: never)")
	}
	if c.NArg() == 1 {
		if from.Scheme != "tcp" && from.Scheme != "tls" {
			return nil, UsageErrorf("missing endpoint B (only tcp:// and tls:// may stand alone, as a TCPd)")
		}
		return b, nil
	}
	to, err := bridge.ParseEndpoint(c.Args().Get(1))
	if err != nil {
		return nil, UsageErrorf("%v", err)
	}
	b.To = &to
	return b, setSwitchNATS(c, b)
}

// switchOptions reads the flags that set up the endpoints.
func switchOptions(c *cli.Context, g Globals) (bridge.EndpointOptions, error) {
	framing, err := bridge.ParseFraming(c.String("framing"))
	if err != nil {
		return bridge.EndpointOptions{}, UsageErrorf("--framing: %v", err)
	}
	max, err := sizeFlag(c, "max-size")
	if err != nil {
		return bridge.EndpointOptions{}, err
	}
	if c.Duration("http-timeout") <= 0 {
		return bridge.EndpointOptions{}, UsageErrorf("--http-timeout must be more than 0")
	}
	if c.Int("max-conns") < 0 {
		return bridge.EndpointOptions{}, UsageErrorf("bad --max-conns %d: want 0 (no bound) or more", c.Int("max-conns"))
	}
	return bridge.EndpointOptions{
		RunDir:      g.RunDir,
		MaxSize:     max,
		TrustOwners: g.TrustOwners,
		Framing:     framing,
		TLS:         bridge.TLSFiles{Cert: c.String("cert"), Key: c.String("key"), CA: c.String("ca")},
		WS:          bridge.WSOptions{Binary: c.Bool("ws-binary"), Origins: c.StringSlice("origin")},
		UDP:         bridge.UDPOptions{Idle: c.Duration("idle-timeout"), MaxPeers: c.Int("max-conns")},
		HTTP:        bridge.HTTPOptions{Timeout: c.Duration("http-timeout"), MaxRequests: c.Int("max-conns")},
	}, nil
}

// switchListening announces where the switch listens and what it pairs
// clients with.
func switchListening(b *bridge.Bridge) *format.Record {
	return &format.Record{Event: "listening", Fields: []format.Field{
		{Key: "endpoint", Value: b.Addr()},
		{Key: "to", Value: switchTarget(b)},
	}}
}

// switchTarget is what the switch pairs its clients with.
func switchTarget(b *bridge.Bridge) string {
	switch {
	case b.Role == bridge.RoleIPCd:
		return "ipcd"
	case b.Role == bridge.RoleTCPdOut:
		return "tcpd-out"
	case b.To == nil:
		return "tcpd"
	}
	return b.To.String()
}

// bridgeRecord converts a bridge event into the record switch prints.
func bridgeRecord(ev bridge.BridgeEvent) *format.Record {
	r := &format.Record{Event: ev.Type.String(), Time: ev.Time}
	if ev.Pair != 0 {
		r.Client = strconv.FormatUint(ev.Pair, 10)
	}
	if ev.Cred != nil {
		r.Peer = &format.Peer{PID: ev.Cred.PID, UID: ev.Cred.UID, GID: ev.Cred.GID}
	}
	add := func(k string, v any) { r.Fields = append(r.Fields, format.Field{Key: k, Value: v}) }
	switch ev.Type {
	case ipc.EventSwitchRx, ipc.EventSwitchTx:
		add("dir", ev.Dir)
		add("size", len(ev.Payload))
	case ipc.EventConnection:
		if ev.Cred == nil && ev.Peer != "" {
			add("peer", ev.Peer)
		}
	}
	if ev.Target != "" {
		add("to", ev.Target)
	}
	if ev.Err != nil {
		add("error", ev.Err.Error())
	}
	return r
}

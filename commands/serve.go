package commands

import (
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
	"github.com/urfave/cli/v2"
)

// Defaults of the serve command.
const (
	defaultMaxProcs = 64
	// defaultMaxClients is above the 10,000 idle clients a service is
	// meant to hold, and bounds what they cost (about 2 KiB each, plus
	// the kernel's socket buffers) and the fds they take.
	defaultMaxClients     = 16384
	defaultHandlerTimeout = 30 * time.Second
	// shutdownWait bounds how long an interrupted service waits for what
	// it already accepted to send, and for its processes to end.
	shutdownWait = 2 * time.Second
	// exitGrace is how long an --exec process may run once its client has
	// left (its stdin is closed) before it is sent SIGTERM, and how long a
	// process sent SIGTERM has before SIGKILL.
	exitGrace = 3 * time.Second
)

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:        "serve",
		Usage:       "become a service: print its events, or run a command per client or per message",
		ArgsUsage:   "NAME",
		Description: serveDescription,
		Flags: append([]cli.Flag{
			&cli.DurationFlag{Name: "timer", Usage: "print a timer event every `DUR`"},
			&cli.StringSliceFlag{Name: "allow-uid", Usage: "accept only clients of user `U` (name or number; repeatable)"},
			&cli.StringSliceFlag{Name: "allow-gid", Usage: "accept only clients of group `G` (name or number; repeatable)"},
			&cli.IntFlag{Name: "max-clients", Usage: "refuse clients past `N` connected at once (0: no bound)", Value: defaultMaxClients},
			flagMaxSize,
			&cli.StringFlag{Name: "max-buffered", Usage: "hold at most `BYTES` of the clients' unfinished messages, all together (default: 64MiB, or 8 of --max-size if more)"},
			&cli.DurationFlag{Name: "frame-timeout", Usage: "close a client that takes over `DUR` to send one message (0: never)", Value: ipc.DefaultFrameTimeout},
			&cli.DurationFlag{Name: "idle-timeout", Usage: "close a client after `DUR` with nothing sent or received (0: never)"},
			&cli.StringFlag{Name: "exec", Usage: "run `CMD` (with /bin/sh -c) for each client, its stdin and stdout bound to the client"},
			&cli.BoolFlag{Name: "line-buffered", Usage: "with --exec, make the process's stdout line-buffered, as stdbuf -oL does (--line-buffered=false: leave it as the program sets it)", Value: true},
			&cli.StringFlag{Name: "handler", Usage: "run `CMD` (with /bin/sh -c) for each message, its stdout the reply"},
			&cli.IntFlag{Name: "max-procs", Usage: "run at most `N` handlers (or --exec processes) at once", Value: defaultMaxProcs},
			&cli.DurationFlag{Name: "handler-timeout", Usage: "kill a handler still running after `DUR` (0: never)", Value: defaultHandlerTimeout},
			&cli.BoolFlag{Name: "raw", Usage: "with --exec, exchange LibIPC frames instead of lines with the process; with --handler, pass the message and the reply byte for byte"},
			&cli.BoolFlag{Name: "bus", Usage: "be a message bus: groups, addresses, presence and calls between clients"},
		}, append(append(serveEndpointFlags(), serveNatsFlags()...), managerFlags()...)...),
		Action: runServe,
	}
}

const serveDescription = "Becomes service NAME: listens on the Unix socket NAME in the run directory " +
	"and prints one event per line on stdout. The first event is \"listening\", with the socket's " +
	"path, printed once clients can connect: a script waits for that line to know the service is " +
	"ready. The other events are \"connection\" (client id, then the peer's pid, uid and gid), " +
	"\"message\" (client id and payload), \"disconnection\", \"error\" (client id when one is " +
	"concerned, and the error text), \"timer\" (with --timer, numbered from 1) and, with --verbose, \"sent\" for " +
	"each message written to a client. In text, a line is the event, the client id (\"-\" for " +
	"none), the time, the payload (empty for events without one), then key=value fields, " +
	"tab-separated, with payloads escaped (\\n, \\t, \\r, \\\\, \\xNN) so that each event is one " +
	"line; --format json prints one object per event (docs/events.md describes both). --quiet " +
	"leaves out listening, connection and disconnection. Output is flushed whenever no more events are waiting, so a reader at the other end " +
	"of a pipe sees each event at once.\n\n" +
	"Stream mode (the default) makes a script the service, through a pipe, a FIFO or a bash " +
	"coproc: it reads the events and writes commands on serve's stdin, one per line:\n\n" +
	"  send ID PAYLOAD     send PAYLOAD to client ID\n" +
	"  broadcast PAYLOAD   send PAYLOAD to every client\n" +
	"  close ID            close client ID once what was sent to it is written\n\n" +
	"Words are separated by one space or one tab, and PAYLOAD is the rest of the line, written " +
	"escaped as serve prints payloads (\\n, \\t, \\r, \\\\, \\0, \\xNN), so any bytes can be " +
	"sent; \"send ID\" alone sends an empty message. A bad command is reported on stderr as " +
	"\"ipcctl: error: stdin line N: ...\" and the service goes on. The end of stdin only means no " +
	"more commands: the service keeps running, so \"ipcctl serve NAME </dev/null &\" works. " +
	"Commands are read in the other modes too, but not from a terminal when serve runs in the " +
	"background (\"ipcctl serve NAME &\" typed in an interactive shell), where reading would " +
	"stop it.\n\n" +
	"With --exec CMD, each client gets its own process, run with /bin/sh -c CMD; a CMD of plain " +
	"words found in PATH (\"cat\", \"tr a-z A-Z\": no quotes, $, globs, redirections, operators, " +
	"assignments, and not a shell built-in) is run directly, which means the same and spares " +
	"starting a shell. The same holds for --handler. Each message " +
	"from the client is written to the process's stdin followed by a newline, and each line the " +
	"process writes to stdout (without its newline) is sent back to the client. A message holding " +
	"a newline therefore reaches the process as several lines. A program that buffers its output " +
	"when it writes to a pipe (tr, sed, grep, most programs in C) would send nothing back until its " +
	"buffer fills or it exits, so serve makes the process's stdout line-buffered as \"stdbuf -oL\" " +
	"does: it preloads coreutils' libstdbuf.so (LD_PRELOAD, with _STDBUF_O=L) when it finds it, and " +
	"sets PYTHONUNBUFFERED=1; the processes the command starts inherit both, and variables already " +
	"set are kept. That works for dynamically linked programs that use C's stdio; others (mawk, " +
	"statically linked programs) must flush each line themselves (mawk -W interactive), or use " +
	"--handler. --line-buffered=false leaves the buffering as the program sets it (-v notes when " +
	"libstdbuf.so is not found). --raw exchanges LibIPC frames " +
	"(4-byte big-endian length, then the payload) on stdin and stdout instead, for any bytes. The " +
	"process's stderr is serve's stderr. When the client leaves, the process's stdin is closed; " +
	"a process still running 3 seconds later is sent SIGTERM, then SIGKILL. When the process " +
	"exits, what it wrote is sent, then the client is disconnected; an exit with a status other " +
	"than 0 is reported as an error event. Each client having a process, --max-procs (default 64) " +
	"bounds the clients too: past it, a client is refused as past --max-clients.\n\n" +
	"With --handler CMD, each message runs /bin/sh -c CMD once, with the message and a newline on " +
	"its stdin, so that read and while read see it. What it writes to stdout, less one trailing " +
	"newline (as $(...) takes it), is sent back to the client as one message: \"echo ok\" answers " +
	"\"ok\"; --raw passes the message and the reply byte for byte instead. A handler that writes " +
	"nothing sends no reply, so a handler can also just act on messages. Handlers run concurrently, at most --max-procs at once (the others wait their " +
	"turn), and the replies to one client keep the order of its messages. Each client's messages " +
	"wait in a queue of their own and a free slot goes to the clients in turns, so that one " +
	"client's backlog does not hold up another's message; a client with 16384 messages (or 4MiB) " +
	"waiting is reported and disconnected. A handler runs at most " +
	"--handler-timeout (default 30s): then it is sent SIGTERM, and SIGKILL 3 seconds later. A " +
	"handler that fails (exits with a status other than 0, is killed, times out, or writes a " +
	"reply over --max-size) is never silent: serve prints an error event with the client id and " +
	"the exit status or signal, its output is not sent, and the client is disconnected once the " +
	"replies to its earlier messages are written. A client waiting for the reply (\"ipcctl send " +
	"--wait\") thus sees the end of the connection and fails at once instead of waiting for its " +
	"timeout. The messages the client sent before leaving are still handled.\n\n" +
	"With --exec and --handler, serve still prints the connection, disconnection, error and timer " +
	"events; message and sent events only with --verbose.\n\n" +
	"The processes of --exec and --handler get serve's environment plus, in UCSPI style: PROTO=IPC, " +
	"IPCREMOTEEUID, IPCREMOTEEGID and IPCREMOTEPID (the client's uid, gid and pid), IPCCONNNUM " +
	"(the number of clients connected, this one included), IPCSERVICE (NAME), IPCLOCALPATH (the " +
	"socket's path), IPCCLIENT (the client id, as events show it) and, for --handler, IPCMSGSIZE " +
	"(the size of the message in bytes).\n\n" +
	"--allow-uid and --allow-gid accept only those users and groups (a client passes when its uid " +
	"is listed, or one of its groups): others are refused as they connect and reported as an error " +
	"event; the refused client fails with exit 77. The list is published in RUNDIR/.NAME.allow " +
	"while serve runs, so that an ipcctl client tells a refusal (77) from a service that closes the " +
	"connection (69), and a dump of NAME applies the same list.\n\n" +
	"Limits keep one client from taking the service down or its memory without bound; past each, " +
	"that client gets an error event and is disconnected, and the others keep working. " +
	"--max-clients (default 16384; 0: no bound) refuses clients past N connected at once. " +
	"--max-size (default 1MiB; suffixes K, KiB, M, MiB) refuses a message over it as its length " +
	"prefix arrives, before anything is allocated. --max-buffered (default 64MiB, or 8 messages of " +
	"--max-size if that is more) bounds the memory held for messages that have begun to arrive and " +
	"are not complete, all clients together, each counted at its announced size: the client whose " +
	"message would pass it is closed (a message alone always fits). --frame-timeout (default 10s; " +
	"0: never) closes a client that began a message and did not finish it in time, so a client " +
	"sending byte by byte cannot hold a place and memory; bytes serve has not read yet, because it " +
	"is behind, do not count against the client. --idle-timeout (default 0: never) closes a client " +
	"after that long with nothing received from it or written to it; it is off by default because " +
	"a subscriber or an interactive session may rightly stay silent for hours, and --max-clients " +
	"bounds what silent clients cost. Each client's queue of messages to be written is bounded " +
	"(4MiB): a client that does not read them is disconnected. All limits are in " +
	"docs/limits.md.\n\n" +
	"On SIGINT or SIGTERM, serve stops accepting clients and removes its socket, then gives what " +
	"it has under way a grace of 2 seconds: --exec processes are sent SIGTERM at once, running " +
	"handlers may finish (no new one starts), and what serve already accepted to send is " +
	"written. When the grace ends, the processes still running are killed (SIGKILL), the clients " +
	"are closed (their disconnections printed) and serve exits 0. Nothing is lost silently: a " +
	"client whose messages were not handled gets an error event \"the service is stopping: N " +
	"messages not handled\" (unhandled=N) and is closed after the replies to its earlier " +
	"messages, never given a later reply in place of an earlier one; a client that did not read " +
	"what was queued for it gets an error event with the number of messages not written " +
	"(lost=N) before its disconnection. A stdout that is not read does not hold serve past the " +
	"grace: it exits with status 1 and an error on stderr. A reader of stdout that goes away " +
	"(\"ipcctl serve NAME | head -1\") ends serve as SIGTERM does, socket removed. A second serve " +
	"of a NAME that is live fails with \"already running\" (exit 1) and leaves it alone; a stale " +
	"socket is replaced.\n\n" + serveBusDescription + "\n\n" + serveNatsDescription + "\n\n" + serveEndpointDescription + "\n\n" + managerDescription

// serveConfig is the serve command line, checked.
type serveConfig struct {
	name           string
	g              Globals
	timer          time.Duration
	allow          *ipc.Allow
	maxClients     int
	maxBuffered    int
	frameTimeout   time.Duration
	idleTimeout    time.Duration
	maxSize        int
	exec           string
	handler        string
	maxProcs       int
	handlerTimeout time.Duration
	raw            bool
	lineBuffered   bool
	bus            bool
	nats           *serveNats // with --nats
	mgr            *manager
	endpoint       *servedEndpoint // NAME is a network endpoint
	socketPath     string          // NAME is unix:/PATH: the socket's path
}

// runServe is the serve command.
func runServe(c *cli.Context) error {
	cfg, err := serveConfigOf(c)
	if err != nil {
		return err
	}
	ctx, stop := signalContext(c)
	defer stop()
	// A reader of stdout that goes away makes writes fail with EPIPE
	// instead of killing serve by SIGPIPE: it shuts down as on SIGTERM,
	// removing its socket. (A notified signal, unlike an ignored one, is
	// reset for the processes serve runs.)
	sigpipe := make(chan os.Signal, 1)
	signal.Notify(sigpipe, syscall.SIGPIPE)
	defer signal.Stop(sigpipe)
	s, err := newServer(cfg, c.App.Reader)
	if err != nil {
		return err
	}
	return s.run(ctx)
}

// serveConfigOf reads and checks the serve command line.
func serveConfigOf(c *cli.Context) (serveConfig, error) {
	g, err := globalsOf(c)
	if err != nil {
		return serveConfig{}, err
	}
	if err := checkArgs(c, 1, 1); err != nil {
		return serveConfig{}, err
	}
	cfg := serveConfig{
		name:           c.Args().First(),
		g:              g,
		timer:          c.Duration("timer"),
		maxClients:     c.Int("max-clients"),
		frameTimeout:   c.Duration("frame-timeout"),
		idleTimeout:    c.Duration("idle-timeout"),
		exec:           c.String("exec"),
		handler:        c.String("handler"),
		maxProcs:       c.Int("max-procs"),
		handlerTimeout: c.Duration("handler-timeout"),
		raw:            c.Bool("raw"),
		lineBuffered:   c.Bool("line-buffered"),
		bus:            c.Bool("bus"),
	}
	if cfg.endpoint, err = serveEndpointOf(c, g, cfg.name); err != nil {
		return cfg, err
	}
	if e := cfg.endpoint; e != nil && e.e.Scheme == "unix" {
		cfg.name, cfg.socketPath, cfg.endpoint = filepath.Base(e.e.Name), e.e.Name, nil
		if !strings.HasPrefix(cfg.socketPath, "/") { // unix:NAME is NAME
			cfg.socketPath = ""
		}
	}
	if cfg.nats, err = serveNatsOf(c, cfg.name, cfg.bus); err != nil {
		return cfg, err
	}
	if cfg.mgr, err = managerOf(c); err != nil {
		return cfg, err
	}
	if cfg.maxSize, err = sizeFlag(c, "max-size"); err != nil {
		return cfg, err
	}
	if c.IsSet("max-buffered") {
		if cfg.maxBuffered, err = sizeFlag(c, "max-buffered"); err != nil {
			return cfg, err
		}
	}
	if cfg.allow, err = allowList(c.StringSlice("allow-uid"), c.StringSlice("allow-gid")); err != nil {
		return cfg, err
	}
	if err := cfg.check(c); err != nil {
		return cfg, err
	}
	if cfg.exec != "" && (cfg.maxClients == 0 || cfg.maxClients > cfg.maxProcs) {
		cfg.maxClients = cfg.maxProcs // each client has a process
	}
	return cfg, nil
}

// check refuses flags that are out of range or do not go together.
func (cfg *serveConfig) check(c *cli.Context) error {
	switch {
	case cfg.timer < 0:
		return UsageErrorf("--timer must be positive")
	case cfg.maxClients < 0:
		return UsageErrorf("--max-clients must be positive (0: no bound)")
	case cfg.frameTimeout < 0, cfg.idleTimeout < 0:
		return UsageErrorf("--frame-timeout and --idle-timeout must be positive (0: never)")
	case cfg.maxProcs < 1:
		return UsageErrorf("--max-procs must be at least 1")
	case cfg.handlerTimeout < 0:
		return UsageErrorf("--handler-timeout must be positive (0: no timeout)")
	case c.IsSet("exec") && cfg.exec == "", c.IsSet("handler") && cfg.handler == "":
		return UsageErrorf("--exec and --handler need a command")
	case cfg.exec != "" && cfg.handler != "":
		return UsageErrorf("--exec and --handler cannot be used together")
	case cfg.raw && cfg.exec == "" && cfg.handler == "":
		return UsageErrorf("--raw goes with --exec or --handler")
	case c.IsSet("handler-timeout") && cfg.handler == "":
		return UsageErrorf("--handler-timeout goes with --handler")
	case cfg.bus && (cfg.exec != "" || cfg.handler != "" || cfg.raw || c.IsSet("max-procs")):
		return UsageErrorf("--bus cannot be used with --exec, --handler, --raw or --max-procs")
	}
	return nil
}

// allowList turns --allow-uid and --allow-gid values (names or numbers)
// into an allow list; nil when both are empty.
func allowList(users, groups []string) (*ipc.Allow, error) {
	if len(users) == 0 && len(groups) == 0 {
		return nil, nil
	}
	a := &ipc.Allow{}
	for _, u := range users {
		uid, err := ipc.LookupUID(u)
		if err != nil {
			return nil, UsageErrorf("--allow-uid: %v", err)
		}
		a.UIDs = append(a.UIDs, uid)
	}
	for _, g := range groups {
		gid, err := ipc.LookupGID(g)
		if err != nil {
			return nil, UsageErrorf("--allow-gid: %v", err)
		}
		a.GIDs = append(a.GIDs, gid)
	}
	return a, nil
}

// serviceOptions returns the engine's options for the service: the
// command line's 0 for "never" is the engine's negative.
func (cfg *serveConfig) serviceOptions() ipc.ServiceOptions {
	opts := ipc.ServiceOptions{
		Allow:        cfg.allow,
		MaxClients:   cfg.maxClients,
		MaxBuffered:  int64(cfg.maxBuffered),
		FrameTimeout: cfg.frameTimeout,
		IdleTimeout:  cfg.idleTimeout,
	}
	if opts.FrameTimeout == 0 {
		opts.FrameTimeout = -1
	}
	return opts
}

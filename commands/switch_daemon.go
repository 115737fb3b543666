package commands

import (
	"github.com/ipcctl/ipcctl/ipc/bridge"
	"github.com/urfave/cli/v2"
)

// daemonFlags make switch one of LibIPC's network daemons.
func daemonFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "ipcd", Usage: "be LibIPC's ipcd, the service ipc: connect clients to the service they name and hand the connection over", DisableDefaultText: true},
		&cli.BoolFlag{Name: "tcpd-out", Usage: "be LibIPC's outgoing tcpd, the service tcp: relay clients to the tcp://HOST:PORT/SERVICE they name", DisableDefaultText: true},
	}
}

const daemonDescription = "LibIPC's network daemons, so that LibIPC programs with IPC_NETWORK " +
	"set reach remote services with no LibIPC daemon running:\n\n" +
	"  --ipcd       listen as the service ipc (or at A). A client sends one frame " +
	"\"NAME;NETWORK\", NETWORK being its IPC_NETWORK; ipcctl connects to NAME, through " +
	"NETWORK's rule for it (tcp://HOST:PORT/SERVICE: TCPd's handshake there; " +
	"tcp://HOST:PORT; unix:NAME or unix:/PATH; nats://HOST:PORT/SUBJECT: a socket pair ipcctl " +
	"relays to NATS), else to the local service NAME, and " +
	"hands the connected descriptor to the client (SCM_RIGHTS) with the two bytes \"ok\", " +
	"then closes. A service that cannot be reached is answered \"ne\".\n" +
	"  --tcpd-out   listen as the service tcp (or at A). A client sends one frame " +
	"\"tcp://HOST:PORT/SERVICE\"; ipcctl connects there, asks the TCPd for SERVICE, answers " +
	"the frame \"ok\" (or \"ne\", and closes), then relays LibIPC frames both ways.\n\n" +
	"  ipcctl switch --ipcd\n" +
	"  ipcctl switch --tcpd-out"

// switchRole reads --ipcd and --tcpd-out.
func switchRole(c *cli.Context) (bridge.Role, error) {
	switch {
	case c.Bool("ipcd") && c.Bool("tcpd-out"):
		return 0, UsageErrorf("--ipcd and --tcpd-out cannot be used together")
	case c.Bool("ipcd"):
		return bridge.RoleIPCd, nil
	case c.Bool("tcpd-out"):
		return bridge.RoleTCPdOut, nil
	}
	return bridge.RoleSwitch, nil
}

// daemonBridge builds the bridge of --ipcd or --tcpd-out: A is the
// daemon's service unless given, and there is no B.
func daemonBridge(c *cli.Context, g Globals, role bridge.Role, err error) (*bridge.Bridge, error) {
	if err != nil {
		return nil, err
	}
	if err := checkArgs(c, 0, 1); err != nil {
		return nil, err
	}
	opts, err := switchOptions(c, g)
	if err != nil {
		return nil, err
	}
	a := bridge.IPCdService
	if role == bridge.RoleTCPdOut {
		a = bridge.TCPdOutService
	}
	if c.NArg() == 1 {
		a = c.Args().First()
	}
	from, err := bridge.ParseEndpoint(a)
	if err != nil {
		return nil, UsageErrorf("%v", err)
	}
	if from.Scheme != "unix" {
		return nil, UsageErrorf("--ipcd and --tcpd-out listen on a local service, not %s", from)
	}
	return &bridge.Bridge{
		From:        from,
		Role:        role,
		Options:     opts,
		MaxConns:    c.Int("max-conns"),
		Linger:      c.Duration("linger"),
		Messages:    g.Verbose || g.JSON,
		IdleTimeout: c.Duration("idle-timeout"),
	}, nil
}

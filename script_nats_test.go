package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ipcctl/ipcctl/internal/natstest"
	"github.com/rogpeppe/go-internal/testscript"
)

// natsKey holds the script's NATS cluster.
type natsKey struct{}

// cmdNatscluster starts N real nats-server processes joined by routes on
// loopback and sets NATS_URL to all their URLs and NATS_URL1...NATS_URLN
// to each one's; they are killed when the script ends. With -tls the
// servers speak TLS to their clients and want a client certificate:
// $WORK/natsauth holds ca.pem, client.pem, client-key.pem and other-ca.pem
// (a CA that signed nothing of theirs). With -operator they trust an
// operator (a MEMORY resolver): $WORK/natsauth holds user.creds, of a user
// they accept, expired.creds and stranger.creds (a user of an account
// they do not know).
func cmdNatscluster(ts *testscript.TestScript, neg bool, args []string) {
	var cfg natstest.Config
	for len(args) > 1 && strings.HasPrefix(args[0], "-") {
		extra, err := natsAuth(ts, args[0])
		ts.Check(err)
		cfg.Extra += extra
		cfg.TLS = cfg.TLS || args[0] == "-tls"
		args = args[1:]
	}
	if neg || len(args) != 1 {
		ts.Fatalf("usage: natscluster [-tls] [-operator] N")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 || n > 9 {
		ts.Fatalf("natscluster: N is 1 to 9")
	}
	if *ts.Value(natsKey{}).(**natstest.Cluster) != nil {
		ts.Fatalf("natscluster: the script has a cluster already")
	}
	dir, err := os.MkdirTemp("", "nats")
	ts.Check(err)
	c, err := natstest.StartConfig(dir, n, cfg)
	ts.Check(err)
	ts.Defer(func() { c.Stop(); os.RemoveAll(dir) })
	*ts.Value(natsKey{}).(**natstest.Cluster) = c
	ts.Setenv("NATS_URL", c.URLs())
	for i, s := range c.Servers {
		ts.Setenv("NATS_URL"+strconv.Itoa(i+1), s.URL)
	}
}

// natsAuth writes the files of option opt of natscluster in
// $WORK/natsauth and returns the servers' configuration for them.
func natsAuth(ts *testscript.TestScript, opt string) (string, error) {
	dir := ts.MkAbs("natsauth")
	switch opt {
	case "-tls":
		f, err := natstest.WriteTLS(dir)
		return f.ServerConfig(), err
	case "-operator":
		o, err := natstest.WriteOperator(dir)
		return o.Config, err
	}
	ts.Fatalf("natscluster: unknown option %s (want -tls or -operator)", opt)
	return "", nil
}

// cmdNatskill kills server I (1...N) of the cluster with SIGKILL, and with
// restart starts it again on the same port.
func cmdNatskill(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 || (len(args) == 2 && args[1] != "restart") {
		ts.Fatalf("usage: natskill I [restart]")
	}
	c := *ts.Value(natsKey{}).(**natstest.Cluster)
	if c == nil {
		ts.Fatalf("natskill: run natscluster first")
	}
	i, err := strconv.Atoi(args[0])
	if err != nil || i < 1 || i > len(c.Servers) {
		ts.Fatalf("natskill: no server %q", args[0])
	}
	if len(args) == 2 {
		ts.Check(c.Restart(i - 1))
		return
	}
	ts.Check(c.Kill(i - 1))
}

// cmdNatscli puts the nats command-line client on the script's PATH.
func cmdNatscli(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: natscli")
	}
	bin, err := natstest.CLIBinary()
	ts.Check(err)
	ts.Setenv("PATH", filepath.Dir(bin)+string(os.PathListSeparator)+ts.Getenv("PATH"))
}

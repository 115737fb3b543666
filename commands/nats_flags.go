package commands

import (
	"os"

	"github.com/ipcctl/ipcctl/ipc/natsopt"
	"github.com/urfave/cli/v2"
)

// natsURLFlag is --nats: the NATS servers a command joins.
func natsURLFlag() cli.Flag {
	return &cli.StringFlag{
		Name:  "nats",
		Usage: "join the NATS servers at `URL[,URL...]` (default: $NATS_URL, then " + natsopt.DefaultURL + ")",
	}
}

// natsAuthFlags are the credentials and TLS files of a NATS connection,
// named as the nats command-line client's --creds, --tlscert, --tlskey
// and --tlsca, and read from its variables when not given.
func natsAuthFlags() []cli.Flag {
	var flags []cli.Flag
	for _, f := range natsAuth {
		flags = append(flags, &cli.StringFlag{Name: f.flag, Usage: f.usage, EnvVars: []string{f.env}, TakesFile: true})
	}
	return flags
}

// natsAuth are the flags of natsAuthFlags and the nats CLI's variables
// they default to.
var natsAuth = []struct{ flag, env, usage string }{
	{"nats-creds", natsopt.EnvCreds, "NATS user credentials `FILE` (JWT and NKey seed)"},
	{"nats-tls-cert", natsopt.EnvCert, "TLS client certificate `FILE` (PEM) for NATS"},
	{"nats-tls-key", natsopt.EnvKey, "TLS client key `FILE` (PEM) for NATS"},
	{"nats-tls-ca", natsopt.EnvCA, "verify the NATS servers with the CA certificates in `FILE`"},
}

// natsAuthGiven returns the first of natsAuthFlags given on the command
// line, "" for none: one that comes from its variable alone is not.
func natsAuthGiven(c *cli.Context) string {
	for _, f := range natsAuth {
		if c.IsSet(f.flag) && (os.Getenv(f.env) == "" || os.Getenv(f.env) != c.String(f.flag)) {
			return f.flag
		}
	}
	return ""
}

// natsOptionsOf reads the NATS flags of c; urls, when not empty, stands for
// --nats (the servers of an endpoint such as nats://HOST:PORT/SUBJECT).
// A malformed setting is a usage error.
func natsOptionsOf(c *cli.Context, urls string) (natsopt.Options, error) {
	o := natsopt.Options{
		URLs:    urls,
		Creds:   c.String("nats-creds"),
		TLSCert: c.String("nats-tls-cert"),
		TLSKey:  c.String("nats-tls-key"),
		TLSCA:   c.String("nats-tls-ca"),
	}
	if o.URLs == "" {
		o.URLs = c.String("nats")
	}
	if err := o.Check(); err != nil {
		return o, UsageErrorf("%v", err)
	}
	return o, nil
}

package commands

import (
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
// and --tlsca.
func natsAuthFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "nats-creds", Usage: "NATS user credentials `FILE` (JWT and NKey seed)", TakesFile: true},
		&cli.StringFlag{Name: "nats-tls-cert", Usage: "TLS client certificate `FILE` (PEM) for NATS", TakesFile: true},
		&cli.StringFlag{Name: "nats-tls-key", Usage: "TLS client key `FILE` (PEM) for NATS", TakesFile: true},
		&cli.StringFlag{Name: "nats-tls-ca", Usage: "verify the NATS servers with the CA certificates in `FILE`", TakesFile: true},
	}
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

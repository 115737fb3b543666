package natstest

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// Operator is a NATS operator of the decentralized authentication, with
// one account and credentials files of its users, as WriteOperator makes
// them.
type Operator struct {
	// Config is the server configuration that trusts the operator and
	// knows its accounts (a MEMORY resolver).
	Config string
	// Creds is a user of the account; Expired one whose JWT expired;
	// Stranger one signed by an account the server does not know.
	Creds, Expired, Stranger string
}

// WriteOperator makes an operator, a system account, an account and
// credentials files of users in dir.
func WriteOperator(dir string) (Operator, error) {
	o := Operator{Creds: filepath.Join(dir, "user.creds"), Expired: filepath.Join(dir, "expired.creds"),
		Stranger: filepath.Join(dir, "stranger.creds")}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return o, err
	}
	op, err := nkeys.CreateOperator()
	if err != nil {
		return o, err
	}
	opPub, _ := op.PublicKey()
	opJWT, err := jwt.NewOperatorClaims(opPub).Encode(op)
	if err != nil {
		return o, err
	}
	sys, sysJWT, err := newAccount(op, "SYS")
	if err != nil {
		return o, err
	}
	acc, accJWT, err := newAccount(op, "ipcctl")
	if err != nil {
		return o, err
	}
	stranger, _, err := newAccount(op, "stranger")
	if err != nil {
		return o, err
	}
	sysPub, _ := sys.PublicKey()
	accPub, _ := acc.PublicKey()
	for _, u := range []struct {
		file    string
		account nkeys.KeyPair
		expires time.Duration
	}{{o.Creds, acc, 0}, {o.Expired, acc, -time.Hour}, {o.Stranger, stranger, 0}} {
		if err := writeUser(u.file, u.account, u.expires); err != nil {
			return o, err
		}
	}
	o.Config = fmt.Sprintf("operator: %s\nsystem_account: %s\nresolver: MEMORY\nresolver_preload: {\n  %s: %s\n  %s: %s\n}\n",
		opJWT, sysPub, sysPub, sysJWT, accPub, accJWT)
	return o, nil
}

// newAccount makes an account signed by op.
func newAccount(op nkeys.KeyPair, name string) (nkeys.KeyPair, string, error) {
	acc, err := nkeys.CreateAccount()
	if err != nil {
		return nil, "", err
	}
	pub, _ := acc.PublicKey()
	c := jwt.NewAccountClaims(pub)
	c.Name = name
	token, err := c.Encode(op)
	return acc, token, err
}

// writeUser writes the credentials file of a new user of account; a
// negative expires makes its JWT expired that long ago.
func writeUser(file string, account nkeys.KeyPair, expires time.Duration) error {
	u, err := nkeys.CreateUser()
	if err != nil {
		return err
	}
	pub, _ := u.PublicKey()
	c := jwt.NewUserClaims(pub)
	c.Name = filepath.Base(file)
	if expires != 0 {
		c.IssuedAt = time.Now().Add(2 * expires).Unix()
		c.Expires = time.Now().Add(expires).Unix()
	}
	token, err := c.Encode(account)
	if err != nil {
		return err
	}
	seed, _ := u.Seed()
	creds, err := jwt.FormatUserConfig(token, seed)
	if err != nil {
		return err
	}
	return os.WriteFile(file, creds, 0o600)
}

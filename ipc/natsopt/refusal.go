package natsopt

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"

	"github.com/nats-io/nats.go"
)

// refusal says why err, the failure of a first connection, is a refusal
// that trying again would not change ("" when it is not one): the server
// refused the credentials or the client certificate, or its certificate
// is not one the client trusts.
func (o Options) refusal(err error) string {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var op *net.OpError
	switch {
	case errors.Is(err, nats.ErrAuthorization), errors.Is(err, nats.ErrAuthExpired),
		errors.Is(err, nats.ErrAuthRevoked), errors.Is(err, nats.ErrAccountAuthExpired):
		return "refused the credentials" + o.hint("--nats-creds")
	case errors.As(err, &unknown), errors.As(err, &host), errors.As(err, &invalid), errors.As(err, &verify):
		return "has a certificate that the client does not trust" + o.hint("--nats-tls-ca")
	case errors.As(err, &op) && op.Op == "remote error", strings.Contains(err.Error(), "remote error: tls:"),
		errors.Is(err, nats.ErrTLS): // nats.go: closed after the handshake, as for a client certificate refused
		return "refused the TLS handshake" + o.hint("--nats-tls-cert")
	case errors.Is(err, nats.ErrSecureConnRequired), errors.Is(err, nats.ErrSecureConnWanted),
		errors.Is(err, nats.ErrClientCertOrRootCAsRequired):
		return "wants TLS on both sides or on neither"
	case o.Creds != "" && (strings.Contains(err.Error(), "nkey") || strings.Contains(err.Error(), "jwt")):
		return "cannot be given the credentials in " + o.Creds
	}
	return ""
}

// hint names the file that was refused, or the flag and variable that
// would give one.
func (o Options) hint(flag string) string {
	file, env := o.Creds, EnvCreds
	switch flag {
	case "--nats-tls-ca":
		file, env = o.TLSCA, EnvCA
	case "--nats-tls-cert":
		file, env = o.TLSCert, EnvCert
	}
	if file == "" {
		return " (none given: " + flag + " or $" + env + ")"
	}
	return " (" + file + ")"
}

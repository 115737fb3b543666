package bridge

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/ipcctl/ipcctl/ipc"
)

// TLSFiles name the PEM files of a TLS endpoint (--cert, --key, --ca).
type TLSFiles struct {
	// Cert and Key are this side's certificate and private key: required
	// to listen; when dialing, a client certificate to present.
	Cert, Key string
	// CA holds the certificates trusted to sign the peer's. When
	// listening, it makes client certificates required and checked
	// against it; when dialing, it replaces the system's roots.
	CA string
}

// ServerConfig returns the TLS setup of a listening endpoint.
func (f TLSFiles) ServerConfig() (*tls.Config, error) {
	if f.Cert == "" || f.Key == "" {
		return nil, fmt.Errorf("a TLS listener needs --cert and --key")
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if err := f.loadPair(conf); err != nil {
		return nil, err
	}
	if f.CA != "" {
		pool, err := loadPool(f.CA)
		if err != nil {
			return nil, err
		}
		conf.ClientCAs = pool
		conf.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return conf, nil
}

// ClientConfig returns the TLS setup of a dialing endpoint.
func (f TLSFiles) ClientConfig() (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if f.Cert != "" || f.Key != "" {
		if err := f.loadPair(conf); err != nil {
			return nil, err
		}
	}
	if f.CA != "" {
		pool, err := loadPool(f.CA)
		if err != nil {
			return nil, err
		}
		conf.RootCAs = pool
	}
	return conf, nil
}

// loadPair loads the certificate and key into conf.
func (f TLSFiles) loadPair(conf *tls.Config) error {
	if f.Cert == "" || f.Key == "" {
		return fmt.Errorf("--cert and --key go together")
	}
	pair, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return fmt.Errorf("cannot load the certificate %s and key %s: %w", f.Cert, f.Key, ipc.WrapPermission(err))
	}
	conf.Certificates = []tls.Certificate{pair}
	return nil
}

// loadPool reads a PEM file of CA certificates.
func loadPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("cannot read the CA file %s: %w", file, ipc.WrapPermission(err))
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%w: no PEM certificate in the CA file %s", ipc.ErrBadData, file)
	}
	return pool, nil
}

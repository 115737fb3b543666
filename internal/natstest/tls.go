package natstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// TLSFiles are the PEM files WriteTLS makes in a directory.
type TLSFiles struct {
	CA                    string // the CA that signed the server's and the client's certificates
	ServerCert, ServerKey string // for 127.0.0.1 and localhost
	ClientCert, ClientKey string // a client certificate the server accepts
	OtherCA               string // a CA that signed neither
}

// WriteTLS makes a CA, a server certificate and a client certificate
// signed by it, and another CA, as PEM files in dir.
func WriteTLS(dir string) (TLSFiles, error) {
	f := TLSFiles{
		CA: filepath.Join(dir, "ca.pem"), OtherCA: filepath.Join(dir, "other-ca.pem"),
		ServerCert: filepath.Join(dir, "server.pem"), ServerKey: filepath.Join(dir, "server-key.pem"),
		ClientCert: filepath.Join(dir, "client.pem"), ClientKey: filepath.Join(dir, "client-key.pem"),
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return f, err
	}
	ca, caKey, err := newCert("ipcctl test CA", nil, nil, nil)
	if err != nil {
		return f, err
	}
	if err := writeCert(f.CA, "", ca, nil); err != nil {
		return f, err
	}
	other, _, err := newCert("another CA", nil, nil, nil)
	if err != nil {
		return f, err
	}
	if err := writeCert(f.OtherCA, "", other, nil); err != nil {
		return f, err
	}
	for _, leaf := range []struct {
		name, cert, key string
		usage           x509.ExtKeyUsage
	}{
		{"localhost", f.ServerCert, f.ServerKey, x509.ExtKeyUsageServerAuth},
		{"ipcctl test client", f.ClientCert, f.ClientKey, x509.ExtKeyUsageClientAuth},
	} {
		tmpl := &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{leaf.usage},
			DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}}
		cert, key, err := newCert(leaf.name, tmpl, ca, caKey)
		if err != nil {
			return f, err
		}
		if err := writeCert(leaf.cert, leaf.key, cert, key); err != nil {
			return f, err
		}
	}
	return f, nil
}

// ServerConfig is the configuration of a server that speaks TLS to its
// clients with these files and wants a client certificate signed by CA.
func (f TLSFiles) ServerConfig() string {
	return fmt.Sprintf("tls {\n  cert_file: %q\n  key_file: %q\n  ca_file: %q\n  verify: true\n  timeout: 5\n}\n",
		f.ServerCert, f.ServerKey, f.CA)
}

// newCert makes a certificate named name from tmpl (a CA when tmpl is
// nil), signed by parent's key, or by itself when parent is nil.
func newCert(name string, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	if tmpl == nil {
		tmpl = &x509.Certificate{IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return nil, nil, err
	}
	tmpl.SerialNumber = serial
	tmpl.Subject = pkix.Name{CommonName: name}
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	if !tmpl.IsCA {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

// writeCert writes cert to certFile and, when keyFile is not empty, key
// to keyFile, as PEM.
func writeCert(certFile, keyFile string, cert *x509.Certificate, key *ecdsa.PrivateKey) error {
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644); err != nil {
		return err
	}
	if keyFile == "" {
		return nil
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	return os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600)
}

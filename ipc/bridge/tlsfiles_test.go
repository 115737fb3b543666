package bridge

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string // the CA certificate, PEM
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &testCA{cert: cert, key: key, file: filepath.Join(t.TempDir(), name+".pem")}
	writePEM(t, ca.file, "CERTIFICATE", der)
	return ca
}

// issue makes a certificate for 127.0.0.1 signed by the CA and returns
// its files.
func (ca *testCA) issue(t *testing.T, name string, usage x509.ExtKeyUsage) (certFile, keyFile string) {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	writePEM(t, certFile, "CERTIFICATE", der)
	kder, _ := x509.MarshalECPrivateKey(key)
	writePEM(t, keyFile, "EC PRIVATE KEY", kder)
	return certFile, keyFile
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func writePEM(t *testing.T, file, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// tlsDial dials a tls:// address with the given files, as a MessageConn.
func tlsDial(t *testing.T, addr string, files TLSFiles) (ipc.MessageConn, error) {
	e, err := ParseEndpoint(addr)
	if err != nil {
		t.Fatal(err)
	}
	return e.Dial(testContext(t), EndpointOptions{TLS: files})
}

func TestTLSBridge(t *testing.T) {
	dir := echoService(t, "pong")
	ca := newTestCA(t, "ca")
	cert, key := ca.issue(t, "server", x509.ExtKeyUsageServerAuth)
	opts := EndpointOptions{RunDir: dir, TLS: TLSFiles{Cert: cert, Key: key}}
	addr, _ := startBridge(t, "tls://127.0.0.1:0", "pong", opts, nil)
	c, err := tlsDial(t, addr, TLSFiles{CA: ca.file})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, []byte("secret"))

	other := newTestCA(t, "other")
	if c, err := tlsDial(t, addr, TLSFiles{CA: other.file}); err == nil {
		c.Close()
		t.Fatal("a server certificate from an unknown CA was accepted")
	}
}

func TestTLSClientCertificates(t *testing.T) {
	dir := echoService(t, "pong")
	ca := newTestCA(t, "ca")
	cert, key := ca.issue(t, "server", x509.ExtKeyUsageServerAuth)
	opts := EndpointOptions{RunDir: dir, TLS: TLSFiles{Cert: cert, Key: key, CA: ca.file}}
	addr, events := startBridge(t, "tls://127.0.0.1:0", "pong", opts, nil)

	ccert, ckey := ca.issue(t, "client", x509.ExtKeyUsageClientAuth)
	c, err := tlsDial(t, addr, TLSFiles{Cert: ccert, Key: ckey, CA: ca.file})
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c, []byte("with a client certificate"))
	c.Close()

	rogue := newTestCA(t, "rogue")
	rcert, rkey := rogue.issue(t, "client", x509.ExtKeyUsageClientAuth)
	for name, files := range map[string]TLSFiles{
		"no certificate":    {CA: ca.file},
		"unknown signer CA": {Cert: rcert, Key: rkey, CA: ca.file},
	} {
		c, err := tlsDial(t, addr, files)
		if err == nil {
			// TLS 1.3 reports a refused client certificate at the first read.
			c.WriteMessage([]byte("x"))
			_, err = c.ReadMessage()
			c.Close()
		}
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
		if ev := waitEvent(t, events, ipc.EventError); ev.Err == nil {
			t.Errorf("%s: no error event", name)
		}
	}
}

func TestTLSFilesErrors(t *testing.T) {
	if _, err := (TLSFiles{}).ServerConfig(); err == nil {
		t.Error("a server without a certificate")
	}
	if _, err := (TLSFiles{Cert: "x"}).ClientConfig(); err == nil {
		t.Error("--cert without --key")
	}
	bad := filepath.Join(t.TempDir(), "bad.pem")
	os.WriteFile(bad, []byte("not pem"), 0o600)
	if _, err := (TLSFiles{CA: bad}).ClientConfig(); !errors.Is(err, ipc.ErrBadData) {
		t.Errorf("a CA file without certificates: %v", err)
	}
}

func TestTLSTCPdThroughNetwork(t *testing.T) {
	dir := echoService(t, "pong")
	ca := newTestCA(t, "ca")
	cert, key := ca.issue(t, "server", x509.ExtKeyUsageServerAuth)
	opts := EndpointOptions{RunDir: dir, TLS: TLSFiles{Cert: cert, Key: key}}
	addr, _ := startBridge(t, "tls://127.0.0.1:0", "", opts, nil)
	t.Setenv("IPC_NETWORK_CA", ca.file)
	c, err := dialRouted(t, "pong "+addr+"/pong", "pong")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, []byte("TCPd over TLS"))
}

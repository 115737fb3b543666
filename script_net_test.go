package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/rogpeppe/go-internal/testscript"
)

// cmdGencert makes, in DIR, a CA (ca.pem), a server certificate for
// 127.0.0.1 and localhost (cert.pem, key.pem) and a client certificate
// (client.pem, client-key.pem), all signed by the CA, valid for a day.
func cmdGencert(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: gencert DIR")
	}
	dir := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(dir, 0o755))
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ts.Check(err)
	ca := certTemplate(1, "ipcctl test CA")
	ca.IsCA, ca.BasicConstraintsValid, ca.KeyUsage = true, true, x509.KeyUsageCertSign
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	ts.Check(err)
	writePEM(ts, filepath.Join(dir, "ca.pem"), "CERTIFICATE", caDER)
	caCert, err := x509.ParseCertificate(caDER)
	ts.Check(err)
	server := certTemplate(2, "localhost")
	server.DNSNames, server.IPAddresses = []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")}
	server.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	signCert(ts, dir, "cert.pem", "key.pem", server, caCert, caKey)
	client := certTemplate(3, "client")
	client.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	signCert(ts, dir, "client.pem", "client-key.pem", client, caCert, caKey)
}

// certTemplate is a leaf certificate valid from an hour ago for a day.
func certTemplate(serial int64, cn string) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
}

// signCert makes a key and tmpl's certificate signed by the CA, in dir.
func signCert(ts *testscript.TestScript, dir, certFile, keyFile string, tmpl, ca *x509.Certificate, caKey *ecdsa.PrivateKey) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ts.Check(err)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	ts.Check(err)
	writePEM(ts, filepath.Join(dir, certFile), "CERTIFICATE", der)
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	ts.Check(err)
	writePEM(ts, filepath.Join(dir, keyFile), "PRIVATE KEY", kb)
}

func writePEM(ts *testscript.TestScript, path, typ string, der []byte) {
	ts.Check(os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
}

// cmdWsclient is a WebSocket client: wsclient [-n N] URL FILE MSG...
// connects to URL, sends each MSG as a text message, reads N messages (as
// many as sent by default), writes them to FILE one a line, and closes
// normally. In the URL, @FILE in place of the port is the port of FILE's
// listening event: ws://127.0.0.1:@srv.out/.
func cmdWsclient(ts *testscript.TestScript, neg bool, args []string) {
	n := -1
	if len(args) > 2 && args[0] == "-n" {
		var err error
		n, err = strconv.Atoi(args[1])
		ts.Check(err)
		args = args[2:]
	}
	if len(args) < 2 {
		ts.Fatalf("usage: wsclient [-n N] URL FILE MSG...")
	}
	url, file, msgs := portOf(ts, args[0]), args[1], args[2:]
	if n < 0 {
		n = len(msgs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), defaultWait)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		if neg {
			return
		}
		ts.Fatalf("wsclient: %v", err)
	}
	defer ws.CloseNow()
	for _, m := range msgs {
		ts.Check(ws.Write(ctx, websocket.MessageText, []byte(m)))
	}
	var got strings.Builder
	for i := 0; i < n; i++ {
		_, p, err := ws.Read(ctx)
		if err != nil {
			ts.Fatalf("wsclient: after %d messages: %v", i, err)
		}
		got.Write(p)
		got.WriteByte('\n')
	}
	ts.Check(os.WriteFile(ts.MkAbs(file), []byte(got.String()), 0o644))
	ws.Close(websocket.StatusNormalClosure, "")
}

// listeningPort finds the port in a listening event's endpoint= field.
var listeningPort = regexp.MustCompile(`endpoint=[a-z]+://[^\s]*:(\d+)`)

// portOf replaces @FILE in url with the port of FILE's listening event.
func portOf(ts *testscript.TestScript, url string) string {
	at := strings.Index(url, "@")
	if at < 0 {
		return url
	}
	end := strings.IndexByte(url[at:], '/')
	if end < 0 {
		end = len(url) - at
	}
	m := listeningPort.FindSubmatch([]byte(ts.ReadFile(url[at+1 : at+end])))
	if m == nil {
		ts.Fatalf("no listening event with a port in %s", url[at+1:at+end])
	}
	return url[:at] + string(m[1]) + url[at+end:]
}

// cmdPortfree waits until nothing listens on the TCP port PORT of any
// address, so that an example of the docs that binds a fixed port as it
// is written does not fail at random against another program holding it:
// it fails, saying so, only if the port stays taken for TIMEOUT.
func cmdPortfree(ts *testscript.TestScript, neg bool, args []string) {
	timeout := waitArgs(ts, args, 1, "portfree PORT [TIMEOUT]")
	if neg {
		ts.Fatalf("usage: portfree PORT [TIMEOUT]")
	}
	addr := net.JoinHostPort("", args[0])
	var err error
	free := poll(timeout, func() bool {
		var l net.Listener
		if l, err = net.Listen("tcp", addr); err != nil {
			return false
		}
		l.Close()
		return true
	})
	if !free {
		ts.Fatalf("port %s stays taken after %v (%v): the examples bind it as the docs write them", args[0], timeout, err)
	}
}

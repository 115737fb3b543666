package natsopt

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipcctl/ipcctl/internal/natstest"
	"github.com/ipcctl/ipcctl/ipc"
	"github.com/nats-io/nats.go"
)

// roundTrip shows that nc carries a request to a responder on itself.
func roundTrip(t *testing.T, nc *nats.Conn) {
	t.Helper()
	sub, err := nc.Subscribe("echo", func(m *nats.Msg) { m.Respond(m.Data) })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	m, err := nc.Request("echo", []byte("hi"), 10e9)
	if err != nil || string(m.Data) != "hi" {
		t.Fatalf("request: %v %v", err, m)
	}
}

// refused checks that the first connection fails at once with
// ErrPermission, saying want.
func refused(t *testing.T, o Options, want string) {
	t.Helper()
	nc, err := o.Connect("test")
	if err == nil {
		nc.Close()
		t.Fatalf("%+v: connected", o)
	}
	if !errors.Is(err, ipc.ErrPermission) || !strings.Contains(err.Error(), want) {
		t.Fatalf("%+v: %v; want permission denied and %q", o, err, want)
	}
}

func TestConnectTLS(t *testing.T) {
	dir := t.TempDir()
	f, err := natstest.WriteTLS(filepath.Join(dir, "tls"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := natstest.StartConfig(dir, 1, natstest.Config{Extra: f.ServerConfig(), TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	url := c.Servers[0].URL
	nc, err := Options{URLs: url, TLSCA: f.CA, TLSCert: f.ClientCert, TLSKey: f.ClientKey}.Connect("test")
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, nc)
	nc.Close()
	refused(t, Options{URLs: url, TLSCA: f.CA}, "refused the TLS handshake (none given: --nats-tls-cert or $NATS_CERT)")
	refused(t, Options{URLs: url, TLSCA: f.OtherCA, TLSCert: f.ClientCert, TLSKey: f.ClientKey},
		"has a certificate that the client does not trust ("+f.OtherCA+")")
	refused(t, Options{URLs: strings.Replace(url, "tls://", "nats://", 1)}, "does not trust")
}

func TestConnectCreds(t *testing.T) {
	dir := t.TempDir()
	o, err := natstest.WriteOperator(filepath.Join(dir, "auth"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := natstest.StartConfig(dir, 1, natstest.Config{Extra: o.Config})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	url := c.Servers[0].URL
	nc, err := Options{URLs: url, Creds: o.Creds}.Connect("test")
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, nc)
	nc.Close()
	for _, creds := range []string{o.Expired, o.Stranger, ""} {
		refused(t, Options{URLs: url, Creds: creds}, "refused the credentials")
	}
	bad := filepath.Join(dir, "bad.creds")
	os.WriteFile(bad, []byte("not a creds file\n"), 0o600)
	refused(t, Options{URLs: url, Creds: bad}, bad)
}

// TestConnectRetriesDown: a server that is not up yet is no refusal; the
// connection is made once it is.
func TestConnectRetriesDown(t *testing.T) {
	c, err := natstest.Start(t.TempDir(), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	url := c.Servers[0].URL
	c.Kill(0)
	nc, err := Options{URLs: url}.Connect("test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if nc.IsConnected() {
		t.Fatal("connected to a server that is down")
	}
	if err := c.Restart(0); err != nil {
		t.Fatal(err)
	}
	if err := nc.FlushTimeout(30e9); err != nil {
		t.Fatal(err)
	}
}

// TestConnectSilentDialledOnce: a server that takes the connection but
// never speaks is tried once before Connect returns, not twice (a first
// try to tell a refusal, then one with retries), so a host that does not
// answer delays a service's start by one timeout. The client goes on
// trying in the background.
func TestConnectSilentDialledOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			defer c.Close()
		}
	}()
	nc, err := Options{URLs: "nats://" + ln.Addr().String()}.Connect("test", nats.Timeout(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if n := accepted.Load(); n != 1 {
		t.Fatalf("the server was dialled %d times before Connect returned, want 1", n)
	}
	if nc.IsConnected() {
		t.Fatal("connected to a server that never spoke")
	}
	deadline := time.Now().Add(30 * time.Second)
	for accepted.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("not tried again within 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

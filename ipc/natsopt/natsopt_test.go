package natsopt

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ipcctl/ipcctl/internal/natstest"
	"github.com/nats-io/nats.go"
)

func TestServers(t *testing.T) {
	t.Setenv("NATS_URL", "")
	if got := (Options{}).Servers(); got != DefaultURL {
		t.Errorf("no URL, no $NATS_URL: %q, want %q", got, DefaultURL)
	}
	t.Setenv("NATS_URL", "nats://e:1")
	if got := (Options{}).Servers(); got != "nats://e:1" {
		t.Errorf("$NATS_URL: %q", got)
	}
	if got := (Options{URLs: "nats://a:1"}).Servers(); got != "nats://a:1" {
		t.Errorf("URLs over $NATS_URL: %q", got)
	}
}

func TestCheck(t *testing.T) {
	for _, o := range []Options{
		{URLs: "nats://a:1,,nats://b:2"},
		{URLs: "http://a:1"},
		{URLs: "nats://"},
		{URLs: "nats://a:1", TLSCert: "c.pem"},
		{URLs: "nats://a:1", Creds: "/no/such/file.creds"},
	} {
		if err := o.Check(); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	for _, o := range []Options{{URLs: "nats://a:1,tls://b:2"}, {URLs: "a:4222"}} {
		if err := o.Check(); err != nil {
			t.Errorf("%+v: %v", o, err)
		}
	}
}

// TestConnectFailsOver connects to a cluster of two through one URL, loses
// that server and finds the other.
func TestConnectFailsOver(t *testing.T) {
	c, err := natstest.Start(t.TempDir(), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	reconnected := make(chan string, 1)
	nc, err := Options{URLs: c.Servers[0].URL}.Connect("test",
		nats.ReconnectWait(50*time.Millisecond),
		nats.ReconnectHandler(func(nc *nats.Conn) { reconnected <- nc.ConnectedUrl() }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := c.Kill(0); err != nil {
		t.Fatal(err)
	}
	select {
	case u := <-reconnected:
		if !strings.HasSuffix(u, strings.TrimPrefix(c.Servers[1].URL, "nats://")) {
			t.Fatalf("reconnected to %s, want %s", u, c.Servers[1].URL)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no reconnect to the other server in 30 s")
	}
}

// TestRepeats reports a refusal once until Reset, and any other error
// each time.
func TestRepeats(t *testing.T) {
	var r Repeats
	refused := fmt.Errorf("reconnect: %w", nats.ErrAuthorization)
	other := errors.New("nats: slow consumer")
	for i, c := range []struct {
		err   error
		reset bool
		want  bool
	}{
		{refused, false, true}, {refused, false, false}, {other, false, true}, {other, false, true},
		{refused, false, false}, {refused, true, true}, {nats.ErrAuthExpired, false, true},
	} {
		if c.reset {
			r.Reset()
		}
		if got := r.New(c.err); got != c.want {
			t.Errorf("%d: New(%v) = %v, want %v", i, c.err, got, c.want)
		}
	}
}

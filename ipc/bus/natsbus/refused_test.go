package natsbus

import (
	"strings"
	"testing"
	"time"

	"github.com/ipcctl/ipcctl/internal/natstest"
)

// TestReconnectRefused restarts the bus's only NATS server with a password
// the bus does not have: the bus is refused at each try, says so once,
// and goes on trying, so that it is back once the server takes its
// password again.
func TestReconnectRefused(t *testing.T) {
	auth := func(password string) natstest.Config {
		return natstest.Config{Extra: "authorization { user: bus, password: " + password + " }\n"}
	}
	dir := t.TempDir()
	c, err := natstest.StartConfig(dir, 1, auth("one"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	url := strings.Replace(c.Servers[0].URL, "nats://", "nats://bus:one@", 1)
	n := startNode(t, url)
	n.waitEvent(KindConnected)
	if err := c.Kill(0); err != nil {
		t.Fatal(err)
	}
	n.waitEvent(KindDisconnected)
	if err := c.RestartWith(0, auth("two")); err != nil {
		t.Fatal(err)
	}
	if e := n.waitEvent(KindError); e.Err == nil || !strings.Contains(strings.ToLower(e.Err.Error()), "authorization") {
		t.Fatalf("error %v, want the refusal", e.Err)
	}
	// Refused again at the next tries: nothing more is reported, and the
	// bus goes on trying.
	for deadline := time.Now().Add(wait); c.Logged(0, "authentication error") < 3; {
		if time.Now().After(deadline) {
			t.Fatalf("the bus stopped trying after %d refusals", c.Logged(0, "authentication error"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := c.Kill(0); err != nil {
		t.Fatal(err)
	}
	if err := c.RestartWith(0, auth("one")); err != nil {
		t.Fatal(err)
	}
	n.waitEvent(KindReconnected)
	n.mu.Lock()
	defer n.mu.Unlock()
	errs := 0
	for _, e := range n.events {
		if e.Kind == KindError {
			errs++
		}
	}
	if errs != 1 {
		t.Errorf("%d error events, want the refusal once", errs)
	}
}

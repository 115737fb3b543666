package natstest

import (
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestClusterKillRestart(t *testing.T) {
	dir, err := os.MkdirTemp("", "nt")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	c, err := Start(dir, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if got := strings.Count(c.URLs(), ","); got != 2 {
		t.Fatalf("URLs %q: want three", c.URLs())
	}
	url := c.Servers[1].URL
	if err := c.Kill(1); err != nil {
		t.Fatal(err)
	}
	if _, err := net.Dial("tcp", strings.TrimPrefix(url, "nats://")); err == nil {
		t.Fatalf("%s still accepts after Kill", url)
	}
	if err := c.WaitRoutes(); err != nil {
		t.Fatal(err)
	}
	if err := c.Restart(1); err != nil {
		t.Fatal(err)
	}
	if c.Servers[1].URL != url {
		t.Fatalf("restarted on %s, was %s", c.Servers[1].URL, url)
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "nats://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 4)
	if _, err := conn.Read(buf); err != nil || string(buf) != "INFO" {
		t.Fatalf("read %q, %v: want the server's INFO", buf, err)
	}
}

// TestCLIAcrossRoutes passes a message from the nats CLI on one server to
// the nats CLI on another: the cluster routes, and the CLI is there.
func TestCLIAcrossRoutes(t *testing.T) {
	cli, err := CLIBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c, err := Start(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	var out strings.Builder
	sub := exec.Command(cli, "-s", c.Servers[0].URL, "sub", "--count", "1", "--raw", "t.x")
	sub.Stdout = &out
	if err := sub.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- sub.Wait() }()
	// Interest crosses the route a moment after the subscription: publish
	// until the subscriber has one.
	for i := 0; ; i++ {
		pub := exec.Command(cli, "-s", c.Servers[1].URL, "pub", "t.x", "hello")
		if b, err := pub.CombinedOutput(); err != nil {
			t.Fatalf("nats pub: %v\n%s", err, b)
		}
		select {
		case err := <-done:
			if err != nil || strings.TrimSpace(out.String()) != "hello" {
				t.Fatalf("nats sub: %v, printed %q", err, out.String())
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
		if i == 300 {
			sub.Process.Kill()
			t.Fatal("no message crossed the route in 30 s")
		}
	}
}

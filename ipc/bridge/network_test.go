package bridge

import (
	"errors"
	"testing"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
)

func TestParseNetwork(t *testing.T) {
	routes, err := ParseNetwork("  pong tcp://host:9000/pong ;; \n ping\t  ws://h:1/p;local unix:other ; ")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"pong tcp://host:9000/pong", "ping ws://h:1/p", "local other"}
	if len(routes) != len(want) {
		t.Fatalf("got %d routes: %+v", len(routes), routes)
	}
	for i, r := range routes {
		if got := r.Service + " " + r.Endpoint.String(); got != want[i] {
			t.Errorf("route %d: %q, want %q", i, got, want[i])
		}
	}
	if r, ok := LookupRoute(routes, "ping"); !ok || r.Endpoint.Scheme != "ws" {
		t.Errorf("LookupRoute(ping) = %+v, %v", r, ok)
	}
	if _, ok := LookupRoute(routes, "nope"); ok {
		t.Error("LookupRoute found a missing service")
	}
	if routes, err := ParseNetwork(""); err != nil || len(routes) != 0 {
		t.Errorf("empty: %v, %v", routes, err)
	}
}

func TestParseNetworkErrors(t *testing.T) {
	for _, in := range []string{
		"pong", "pong tcp://h:1 extra", "a/b tcp://h:1", "pong ftp://h:1",
		"pong tcp://h:1?framing=line", "pong tcp://h",
	} {
		if r, err := ParseNetwork(in); err == nil {
			t.Errorf("ParseNetwork(%q) = %+v, want an error", in, r)
		}
	}
}

// dialRouted dials name with IPC_NETWORK set to network.
func dialRouted(t *testing.T, network, name string) (*ipc.Conn, error) {
	t.Setenv("IPC_NETWORK", network)
	return Dial(testContext(t), name, ipc.DialOptions{RunDir: t.TempDir()})
}

func TestNetworkTCPd(t *testing.T) {
	dir := echoService(t, "pong")
	addr, _ := startBridge(t, "tcp://127.0.0.1:0", "", EndpointOptions{RunDir: dir}, nil)
	c, err := dialRouted(t, "other tcp://127.0.0.1:1/x; remote "+addr+"/pong", "remote")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, []byte("through TCPd"))
	reply, err := c.Request(testContext(t), []byte{0, 0xff})
	if err != nil || string(reply) != "\x00\xff" {
		t.Fatalf("Request: %q, %v", reply, err)
	}
}

func TestNetworkTCPdUnknown(t *testing.T) {
	dir := echoService(t, "pong")
	addr, _ := startBridge(t, "tcp://127.0.0.1:0", "", EndpointOptions{RunDir: dir}, nil)
	_, err := dialRouted(t, "x "+addr+"/nothere", "x")
	if !errors.Is(err, ipc.ErrNoService) {
		t.Fatalf("got %v, want ErrNoService", err)
	}
}

func TestNetworkRawFrames(t *testing.T) {
	dir := echoService(t, "pong")
	addr, _ := startBridge(t, "tcp://127.0.0.1:0", "pong", EndpointOptions{RunDir: dir}, nil)
	c, err := dialRouted(t, "pong "+addr, "pong")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, []byte("framed"))
	roundTrip(t, c, nil)
}

func TestNetworkWebSocket(t *testing.T) {
	dir := echoService(t, "pong")
	addr, _ := startBridge(t, "ws://127.0.0.1:0/ipc", "pong", EndpointOptions{RunDir: dir}, nil)
	c, err := dialRouted(t, "pong "+addr, "pong")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, []byte("over ws"))
	roundTrip(t, c, []byte{0xff, 0})
	if _, err := c.ReadContext(ctxFor(t, 50*time.Millisecond)); !errors.Is(err, ipc.ErrTimeout) {
		t.Fatalf("a read past its deadline: %v", err)
	}
}

func TestNetworkLocalAlias(t *testing.T) {
	dir := echoService(t, "pong")
	t.Setenv("IPC_NETWORK", "alias unix:pong; pong unix:alias")
	c, err := Dial(testContext(t), "alias", ipc.DialOptions{RunDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, []byte("local"))
}

func TestNetworkWait(t *testing.T) {
	t.Setenv("IPC_NETWORK", "pong tcp://127.0.0.1:1/pong")
	start := time.Now()
	_, err := Dial(testContext(t), "pong", ipc.DialOptions{Wait: 100 * time.Millisecond})
	if !errors.Is(err, ipc.ErrTimeout) || time.Since(start) > 5*time.Second {
		t.Fatalf("got %v after %s", err, time.Since(start))
	}
}

func TestNetworkBadVariable(t *testing.T) {
	t.Setenv("IPC_NETWORK", "pong")
	if _, err := Dial(testContext(t), "pong", ipc.DialOptions{}); !errors.Is(err, ipc.ErrInvalid) {
		t.Fatalf("got %v, want ErrInvalid", err)
	}
}

func FuzzParseNetwork(f *testing.F) {
	f.Add("pong tcp://127.0.0.1:9000/pong")
	f.Add(" a ws://h:1/p ; b unix:/run/x ;")
	f.Fuzz(func(t *testing.T, s string) {
		routes, err := ParseNetwork(s)
		if err != nil {
			return
		}
		for _, r := range routes {
			if ipc.CheckName(r.Service) != nil {
				t.Fatalf("route for an invalid name %q", r.Service)
			}
			// A route printed back reads the same.
			again, err := ParseEndpoint(r.Endpoint.String())
			if err != nil || again.String() != r.Endpoint.String() {
				t.Fatalf("%q does not read back: %v", r.Endpoint.String(), err)
			}
		}
	})
}

package bridge

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipcctl/ipcctl/internal/natstest"
	"github.com/ipcctl/ipcctl/ipc"
	"github.com/nats-io/nats.go"
)

// natsServer runs one real nats-server for the test and returns its URL.
func natsServer(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "nb")
	if err != nil {
		t.Fatal(err)
	}
	c, err := natstest.Start(dir, 1)
	if err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop(); os.RemoveAll(dir) })
	return c.URLs()
}

// natsClient connects the test itself to NATS.
func natsClient(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// serveNATS runs a switch from the subject svc on url to service name of
// dir until the test ends, and returns its events.
func serveNATS(t *testing.T, url, dir, name string, o NATSOptions) <-chan BridgeEvent {
	return serveNATSWith(t, url, EndpointOptions{RunDir: dir, NATS: o}, name)
}

// serveNATSWith is serveNATS with all the endpoint options.
func serveNATSWith(t *testing.T, url string, opts EndpointOptions, name string) <-chan BridgeEvent {
	t.Helper()
	from, err := ParseEndpoint(url + "/svc")
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan BridgeEvent, 1000)
	b := &Bridge{From: from, To: &Endpoint{Scheme: "unix", Name: name},
		Options: opts,
		Report:  func(ev BridgeEvent) { events <- ev }}
	if err := b.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return events
}

// TestNATSServiceMatchesReplies sends many requests at once: each gets
// the reply to its own message.
func TestNATSServiceMatchesReplies(t *testing.T) {
	url := natsServer(t)
	dir := echoService(t, "echo")
	serveNATS(t, url, dir, "echo", NATSOptions{MaxInFlight: 4})
	nc := natsClient(t, url)
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := fmt.Sprintf("request %d", i)
			m, err := nc.Request("svc", []byte(want), 10*time.Second)
			if err == nil && string(m.Data) != want {
				err = fmt.Errorf("asked %q, answered %q", want, m.Data)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// slowService answers "slow" after delay and anything else at once.
func slowService(t *testing.T, delay time.Duration) string {
	return echoServiceBy(t, "slow", func(c *ipc.Conn, p []byte) error {
		if string(p) == "slow" {
			go func() { time.Sleep(delay); c.Write(p) }()
			return nil
		}
		return c.Write(p)
	})
}

// errorCode returns the NATS micro error code of a reply, or "".
func errorCode(m *nats.Msg) string {
	if m.Header == nil {
		return ""
	}
	return m.Header.Get(HeaderServiceErrorCode)
}

// TestNATSServiceTimeout: a request the service does not answer in time
// is answered 504, and its late reply is not taken for the next one's.
func TestNATSServiceTimeout(t *testing.T) {
	url := natsServer(t)
	dir := slowService(t, time.Second)
	events := serveNATS(t, url, dir, "slow", NATSOptions{Timeout: 200 * time.Millisecond, MaxInFlight: 1})
	nc := natsClient(t, url)
	m, err := nc.Request("svc", []byte("slow"), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if errorCode(m) != "504" || !strings.Contains(m.Header.Get(HeaderServiceError), "no reply from slow within 200ms") {
		t.Fatalf("slow request answered %q, headers %v", m.Data, m.Header)
	}
	expectError(t, events, "no reply from slow")
	for i := range 3 {
		want := fmt.Sprint("fast ", i)
		m, err := nc.Request("svc", []byte(want), 10*time.Second)
		if err != nil || string(m.Data) != want {
			t.Fatalf("asked %q, answered %v %v", want, m, err)
		}
		time.Sleep(500 * time.Millisecond) // past the late reply
	}
}

// TestNATSServiceBusy: past the bound, requests are answered 503 at once.
// Each slow request holds the one connection for a while.
func TestNATSServiceBusy(t *testing.T) {
	url := natsServer(t)
	dir := slowService(t, 200*time.Millisecond)
	serveNATS(t, url, dir, "slow", NATSOptions{Timeout: 5 * time.Second, MaxInFlight: 1})
	nc := natsClient(t, url)
	inbox := nats.NewInbox()
	replies, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	for range 12 {
		if err := nc.PublishRequest("svc", inbox, []byte("slow")); err != nil {
			t.Fatal(err)
		}
	}
	busy := 0
	for range 12 {
		m, err := replies.NextMsg(20 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if errorCode(m) == "503" && strings.Contains(m.Header.Get(HeaderServiceError), "busy") {
			busy++
		}
	}
	if busy < 3 {
		t.Fatalf("%d of 12 requests answered busy with 1 in progress and 8 waiting, want 3", busy)
	}
}

// TestNATSServiceStops: a switch told to stop finishes the request in
// progress and answers those still waiting with an error at once.
func TestNATSServiceStops(t *testing.T) {
	url := natsServer(t)
	dir := slowService(t, 300*time.Millisecond)
	from, _ := ParseEndpoint(url + "/svc")
	events := make(chan BridgeEvent, 100)
	b := &Bridge{From: from, To: &Endpoint{Scheme: "unix", Name: "slow"}, Messages: true,
		Options: EndpointOptions{RunDir: dir, NATS: NATSOptions{MaxInFlight: 1}},
		Report:  func(ev BridgeEvent) { events <- ev }}
	if err := b.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Serve(ctx) }()
	nc := natsClient(t, url)
	inbox := nats.NewInbox()
	replies, _ := nc.SubscribeSync(inbox)
	for range 4 {
		nc.PublishRequest("svc", inbox, []byte("slow"))
	}
	nc.Flush() // all four reach the server before the switch stops
	for ev := range events {
		if ev.Type == ipc.EventSwitchRx {
			break // the first request is in progress
		}
	}
	cancel()
	answered, stopping := 0, 0
	for range 4 {
		m, err := replies.NextMsg(20 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case string(m.Data) == "slow":
			answered++
		case errorCode(m) == "503" && strings.Contains(m.Header.Get(HeaderServiceError), "stopping"):
			stopping++
		}
	}
	if answered != 1 || stopping != 3 {
		t.Fatalf("%d answered and %d told the switch is stopping, want 1 and 3", answered, stopping)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestNATSServiceDown: a request to a service that is not running gets a
// 503 at once.
func TestNATSServiceDown(t *testing.T) {
	url := natsServer(t)
	dir := t.TempDir()
	serveNATS(t, url, dir, "gone", NATSOptions{})
	m, err := natsClient(t, url).Request("svc", []byte("hi"), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if errorCode(m) != "503" || !strings.Contains(m.Header.Get(HeaderServiceError), "cannot reach gone") {
		t.Fatalf("answered %q, headers %v", m.Data, m.Header)
	}
}

// TestNATSServiceReplyTooLarge: a reply NATS does not take is answered
// with an error instead of silence.
func TestNATSServiceReplyTooLarge(t *testing.T) {
	url := natsServer(t)
	dir := echoServiceBy(t, "big", func(c *ipc.Conn, p []byte) error {
		return c.Write(make([]byte, 2<<20))
	})
	serveNATSWith(t, url, EndpointOptions{RunDir: dir, MaxSize: 4 << 20}, "big")
	m, err := natsClient(t, url).Request("svc", []byte("hi"), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if errorCode(m) != "502" || !strings.Contains(m.Header.Get(HeaderServiceError), "lost") {
		t.Fatalf("answered %d bytes, headers %v", len(m.Data), m.Header)
	}
}

// TestNATSRoute: an IPC_NETWORK route to a NATS service, and to a
// subject nobody answers.
func TestNATSRoute(t *testing.T) {
	url := natsServer(t)
	nc := natsClient(t, url)
	if _, err := nc.Subscribe("far", func(m *nats.Msg) { m.Respond(append([]byte("far: "), m.Data...)) }); err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	t.Setenv("IPC_NETWORK", "far "+url+"/far; none "+url+"/nobody")
	c, err := Dial(testContext(t), "far", ipc.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, p := range []string{"a", "b"} {
		if err := c.WriteMessage([]byte(p)); err != nil {
			t.Fatal(err)
		}
		got, err := c.ReadMessage()
		if err != nil || string(got) != "far: "+p {
			t.Fatalf("got %q, %v", got, err)
		}
	}
	none, err := Dial(testContext(t), "none", ipc.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer none.Close()
	none.WriteMessage([]byte("hi"))
	if got, err := none.ReadMessage(); err == nil {
		t.Fatalf("no responder answered %q", got)
	}
}

// TestIPCdNATS: a LibIPC client whose IPC_NETWORK routes a service to
// NATS is handed a connection that ipcd relays to NATS.
func TestIPCdNATS(t *testing.T) {
	url := natsServer(t)
	nc := natsClient(t, url)
	if _, err := nc.Subscribe("far", func(m *nats.Msg) { m.Respond(append([]byte("far: "), m.Data...)) }); err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	dir := t.TempDir()
	startBridge(t, IPCdService, "", EndpointOptions{RunDir: dir}, func(b *Bridge) { b.Role = RoleIPCd })
	answer, c := libipcAsk(t, dir, "near", "near "+url+"/far")
	if answer != "ok" || c == nil {
		t.Fatalf("answer %q, fd %v", answer, c)
	}
	defer c.Close()
	if got := exchange(t, c, "over nats"); got != "far: over nats" {
		t.Fatalf("got %q", got)
	}
}

// TestNATSRequesterNoResponders: no responder is ErrNoService.
func TestNATSRequesterNoResponders(t *testing.T) {
	url := natsServer(t)
	r := newNATSRequester(testContext(t), natsClient(t, url), "nobody", time.Second, nil)
	defer r.Close()
	if err := r.WriteMessage([]byte("hi")); !errors.Is(err, ipc.ErrNoService) {
		t.Fatalf("got %v, want ErrNoService", err)
	}
}

// expectError waits for an error event that says want.
func expectError(t *testing.T, events <-chan BridgeEvent, want string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Type == ipc.EventError && strings.Contains(ev.Err.Error(), want) {
				return
			}
		case <-timeout:
			t.Fatalf("no error event saying %q", want)
		}
	}
}

func TestParseNATSEndpoint(t *testing.T) {
	for in, want := range map[string]Endpoint{
		"nats://h:4222/svc.pong":                     {Scheme: "nats", Host: "nats://h:4222", Path: "svc.pong"},
		"nats://a:1,b:2/svc.>":                       {Scheme: "nats", Host: "nats://a:1,nats://b:2", Path: "svc.>"},
		"nats://nats://a:1,nats://b:2/x":             {Scheme: "nats", Host: "nats://a:1,nats://b:2", Path: "x"},
		"nats:///svc":                                {Scheme: "nats", Path: "svc"},
		"nats://tls://a:1/x.*.y":                     {Scheme: "nats", Host: "tls://a:1", Path: "x.*.y"},
		"nats://127.0.0.1:4222,127.0.0.1:4223/a.b.c": {Scheme: "nats", Host: "nats://127.0.0.1:4222,nats://127.0.0.1:4223", Path: "a.b.c"},
	} {
		got, err := ParseEndpoint(in)
		if err != nil || got.Scheme != want.Scheme || got.Host != want.Host || got.Path != want.Path {
			t.Errorf("%q: got %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"nats://h:1", "nats://h:1/", "nats://h:1/a..b", "nats://h:1/a.>.b", "nats://h:1/a/b",
		"nats://h:1/a b", "nats://h:1/a*", "nats://ftp://h:1/a"} {
		if e, err := ParseEndpoint(in); err == nil {
			t.Errorf("%q read as %+v", in, e)
		}
	}
}

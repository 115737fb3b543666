package main

import (
	"context"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/coder/websocket"
	"github.com/ipcctl/ipcctl/internal/natstest"
	"github.com/rogpeppe/go-internal/testscript"
)

// cmdGencert makes, in DIR, a CA (ca.pem), a server certificate for
// 127.0.0.1 and localhost (server.pem, server-key.pem), a client
// certificate (client.pem, client-key.pem) signed by the CA, and another
// CA (other-ca.pem): natstest.WriteTLS's files.
func cmdGencert(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: gencert DIR")
	}
	_, err := natstest.WriteTLS(ts.MkAbs(args[0]))
	ts.Check(err)
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

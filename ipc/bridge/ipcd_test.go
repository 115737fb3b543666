package bridge

import (
	"encoding/binary"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// libipcFrame is a LibIPC frame as its clients write it.
func libipcFrame(p string) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(p)))
	return append(b, p...)
}

// libipcAsk is a LibIPC client asking ipcd for service with network as
// its $IPC_NETWORK: one frame "NAME;NETWORK", then a message carrying the
// raw bytes "ok" and the connected descriptor. It returns the answer and
// the descriptor as a connection (nil when none came).
func libipcAsk(t *testing.T, dir, service, network string) (string, net.Conn) {
	t.Helper()
	uc, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: filepath.Join(dir, IPCdService), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	if _, err := uc.Write(libipcFrame(service + ";" + network)); err != nil {
		t.Fatal(err)
	}
	uc.SetReadDeadline(time.Now().Add(20 * time.Second))
	buf, oob := make([]byte, 16), make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := uc.ReadMsgUnix(buf, oob)
	if err != nil {
		t.Fatalf("ipcd answered nothing: %v", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) == 0 {
		return string(buf[:n]), nil
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("rights: %v %v", fds, err)
	}
	f := os.NewFile(uintptr(fds[0]), "passed")
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return string(buf[:n]), c
}

// exchange writes a LibIPC frame on c and reads one back.
func exchange(t *testing.T, c net.Conn, p string) string {
	t.Helper()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write(libipcFrame(p)); err != nil {
		t.Fatal(err)
	}
	var n [4]byte
	if _, err := io.ReadFull(c, n[:]); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, binary.BigEndian.Uint32(n[:]))
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestIPCdLocal: with no route, ipcd hands over a connection to the
// local service; the client then speaks to it directly.
func TestIPCdLocal(t *testing.T) {
	dir := echoService(t, "pong")
	startBridge(t, IPCdService, "", EndpointOptions{RunDir: dir}, func(b *Bridge) { b.Role = RoleIPCd })
	answer, c := libipcAsk(t, dir, "pong", "")
	if answer != "ok" || c == nil {
		t.Fatalf("answer %q, fd %v", answer, c)
	}
	if got := exchange(t, c, "hello"); got != "hello" {
		t.Fatalf("echo %q", got)
	}
}

// TestIPCdRoute: a service routed to tcp://HOST:PORT/NAME is reached
// through the TCPd there, and the TCP connection handed over.
func TestIPCdRoute(t *testing.T) {
	remote := echoService(t, "far")
	tcpd, _ := startBridge(t, "tcp://127.0.0.1:0", "", EndpointOptions{RunDir: remote}, nil)
	local, err := os.MkdirTemp("", "ipcd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(local) })
	startBridge(t, IPCdService, "", EndpointOptions{RunDir: local}, func(b *Bridge) { b.Role = RoleIPCd })
	host := strings.TrimPrefix(tcpd, "tcp://")
	answer, c := libipcAsk(t, local, "near", "other unix:x; near tcp://"+host+"/far")
	if answer != "ok" || c == nil {
		t.Fatalf("answer %q, fd %v", answer, c)
	}
	if _, ok := c.(*net.TCPConn); !ok {
		t.Fatalf("handed over a %T, want a TCP connection", c)
	}
	if got := exchange(t, c, "over tcp"); got != "over tcp" {
		t.Fatalf("echo %q", got)
	}
}

// TestIPCdUnknown: an unknown service is answered "ne" with no
// descriptor.
func TestIPCdUnknown(t *testing.T) {
	dir := echoService(t, "pong")
	_, events := startBridge(t, IPCdService, "", EndpointOptions{RunDir: dir}, func(b *Bridge) { b.Role = RoleIPCd })
	answer, c := libipcAsk(t, dir, "nope", "")
	if answer != "ne" || c != nil {
		t.Fatalf("answer %q, fd %v", answer, c)
	}
	for ev := range events {
		if ev.Err != nil {
			if !strings.Contains(ev.Err.Error(), "nope") {
				t.Fatalf("error %v", ev.Err)
			}
			return
		}
	}
}

// TestTCPdOut: a LibIPC client asks the local service tcp for
// tcp://HOST:PORT/SERVICE, gets a framed "ok", then talks to SERVICE
// through the TCPd there.
func TestTCPdOut(t *testing.T) {
	remote := echoService(t, "far")
	tcpd, _ := startBridge(t, "tcp://127.0.0.1:0", "", EndpointOptions{RunDir: remote}, nil)
	local, err := os.MkdirTemp("", "tcpo")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(local) })
	startBridge(t, TCPdOutService, "", EndpointOptions{RunDir: local}, func(b *Bridge) { b.Role = RoleTCPdOut })
	c, err := net.Dial("unix", filepath.Join(local, TCPdOutService))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := exchange(t, c, tcpd+"/far"); got != "ok" {
		t.Fatalf("answer %q", got)
	}
	if got := exchange(t, c, "relayed"); got != "relayed" {
		t.Fatalf("echo %q", got)
	}
	c2, err := net.Dial("unix", filepath.Join(local, TCPdOutService))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if got := exchange(t, c2, tcpd+"/nope"); got != "ne" {
		t.Fatalf("answer for an unknown service %q", got)
	}
	if n, _ := c2.Read(make([]byte, 1)); n != 0 {
		t.Fatal("not closed after ne")
	}
}

// FuzzParseIPCdRequest: any request either fails or names a valid
// service and a route to it.
func FuzzParseIPCdRequest(f *testing.F) {
	for _, s := range []string{"pong;", "pong;pong tcp://h:1/p", "a;b unix:c; a ws://h:2/x", ";", "x;y", "../x;"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, req []byte) {
		name, r, err := ParseIPCdRequest(req)
		if err != nil {
			return
		}
		if name == "" || r.Service != name || r.Endpoint.Scheme == "" {
			t.Fatalf("%q: name %q route %+v", req, name, r)
		}
	})
}

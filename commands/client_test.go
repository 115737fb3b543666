package commands

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"testing"

	"github.com/ipcctl/ipcctl/format"
	"github.com/ipcctl/ipcctl/ipc"
	"golang.org/x/sys/unix"
)

// unixPair returns the two ends of a connected Unix stream socket.
func unixPair(t *testing.T) (net.Conn, net.Conn) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ends [2]net.Conn
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socketpair")
		ends[i], err = net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ends[i].Close() })
	}
	return ends[0], ends[1]
}

// TestReceiveBurst sends thousands of frames of assorted sizes in writes
// that split them, as a fast service does, and checks that receive prints
// every one exactly, in order: the messages printed straight from the
// read buffer are not overwritten by the reads that follow.
func TestReceiveBurst(t *testing.T) {
	a, b := unixPair(t)
	var frames, want bytes.Buffer
	for i := range 5000 {
		p := bytes.Repeat([]byte{byte('a' + i%26)}, i%150)
		p = fmt.Appendf(p, "\t%d", i)
		frames.Write(ipc.AppendFrame(nil, p))
		want.Write(format.Escape(nil, p))
		want.WriteByte('\n')
	}
	go func() {
		data := frames.Bytes()
		for len(data) > 0 {
			n := min(len(data), 5003)
			a.Write(data[:n])
			data = data[n:]
		}
		a.Close()
	}()
	var got bytes.Buffer
	out := format.NewPayloadWriter(&got, format.Text)
	_, err := receive(context.Background(), ipc.NewConn(b, 0), out, 0)
	if err != io.EOF {
		t.Fatalf("receive ended with %v, want io.EOF", err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("printed %d bytes, want %d; first difference at byte %d", got.Len(), want.Len(), firstDiff(got.Bytes(), want.Bytes()))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

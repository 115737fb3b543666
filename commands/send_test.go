package commands

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"testing/iotest"

	"github.com/ipcctl/ipcctl/ipc"
)

// sendLinesOf runs sendLines on in, read through r, with a bufio buffer
// of size bytes, and returns the messages the peer got and sendLines'
// count and error.
func sendLinesOf(t *testing.T, r io.Reader, size int) ([][]byte, int, error) {
	a, b := net.Pipe()
	conn := ipc.NewConn(a, 0)
	got := make(chan [][]byte, 1)
	go func() {
		var msgs [][]byte
		fr := ipc.NewFrameReader(b, 0)
		for {
			p, err := fr.ReadFrame()
			if err != nil {
				got <- msgs
				return
			}
			msgs = append(msgs, p)
		}
	}()
	n, err := sendLines(context.Background(), bufio.NewReaderSize(r, size), conn)
	conn.Close()
	return <-got, n, err
}

// wantLines is what sendLines must send of in: each line without its
// newline, and a last line without one if it is not empty.
func wantLines(in []byte) [][]byte {
	var lines [][]byte
	for len(in) > 0 {
		i := bytes.IndexByte(in, '\n')
		if i < 0 {
			lines = append(lines, in)
			break
		}
		lines = append(lines, in[:i])
		in = in[i+1:]
	}
	return lines
}

func TestSendLines(t *testing.T) {
	in := []byte("one\n\ntwo\nthree and more\nlast")
	for name, r := range map[string]io.Reader{
		"whole":     bytes.NewReader(in),
		"byte-wise": iotest.OneByteReader(bytes.NewReader(in)),
	} {
		msgs, n, err := sendLinesOf(t, r, 16)
		want := wantLines(in)
		if err != nil || n != len(want) || !equalMessages(msgs, want) {
			t.Errorf("%s: sent %d %q (%v), want %q", name, n, msgs, err, want)
		}
	}
	// A line longer than the buffer is refused; the lines before it went.
	msgs, n, err := sendLinesOf(t, bytes.NewReader([]byte("ok\n0123456789abcdefXYZ\n")), 16)
	if !errors.Is(err, ipc.ErrBadData) || n != 1 || len(msgs) != 1 || string(msgs[0]) != "ok" {
		t.Errorf("a long line: sent %d %q, %v; want ok and ErrBadData", n, msgs, err)
	}
}

func equalMessages(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// FuzzSendLines: whatever stdin holds and however it arrives, sendLines
// sends each line once, in order, without its newline.
func FuzzSendLines(f *testing.F) {
	f.Add([]byte("one\n\ntwo\nlast"), false)
	f.Add([]byte("\n\n\n"), true)
	f.Add([]byte("no newline"), true)
	f.Fuzz(func(t *testing.T, in []byte, bytewise bool) {
		if len(in) > 60000 {
			return // no line may outgrow the buffer here
		}
		var r io.Reader = bytes.NewReader(in)
		if bytewise {
			r = iotest.HalfReader(r)
		}
		msgs, n, err := sendLinesOf(t, r, 64<<10)
		want := wantLines(in)
		if err != nil || n != len(want) || !equalMessages(msgs, want) {
			t.Fatalf("sent %d %q (%v), want %q", n, msgs, err, want)
		}
	})
}

package bridge

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/ipcctl/ipcctl/ipc"
)

// tcpPair returns the two ends of a TCP connection on 127.0.0.1.
func tcpPair(t testing.TB) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		done <- c
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b := <-done
	if b == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestParseFraming(t *testing.T) {
	for _, f := range []Framing{FramingIPC, FramingLine, FramingRaw, FramingJSON} {
		got, err := ParseFraming(f.String())
		if err != nil || got != f {
			t.Errorf("ParseFraming(%q) = %v, %v", f, got, err)
		}
	}
	if _, err := ParseFraming("xml"); err == nil {
		t.Error("ParseFraming(xml) succeeded")
	}
}

func TestLineConn(t *testing.T) {
	a, b := tcpPair(t)
	lc := FramingLine.Wrap(b, 16)
	a.Write([]byte("one\ntwo\r\n\nthree-no-newline"))
	a.(*net.TCPConn).CloseWrite()
	var got []string
	for {
		p, err := lc.ReadMessage()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(p))
	}
	want := []string{"one", "two", "", "three-no-newline"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
	if err := lc.WriteMessage([]byte("back")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(a, buf); err != nil || string(buf) != "back\n" {
		t.Fatalf("wrote %q, %v", buf, err)
	}
}

func TestLineOverLimit(t *testing.T) {
	for _, in := range []string{
		"0123456789a\n",
		"0123456789abcdefghijklmnopqrstuvwxyz",
		"0123456789\r\r\n",
	} {
		lr := NewLineReader(iotest.OneByteReader(strings.NewReader(in)), 10)
		if _, err := lr.ReadLine(); !errors.Is(err, ipc.ErrTooLarge) {
			t.Errorf("%q: got %v, want ErrTooLarge", in, err)
		}
	}
	lr := NewLineReader(strings.NewReader("0123456789\r\n"), 10)
	if p, err := lr.ReadLine(); err != nil || string(p) != "0123456789" {
		t.Errorf("a line of exactly the limit: %q, %v", p, err)
	}
}

// TestLineBoundedMemory feeds an endless line and checks that the reader
// gives up instead of reading it all.
func TestLineBoundedMemory(t *testing.T) {
	r := &countingReader{}
	lr := NewLineReader(r, 1000)
	if _, err := lr.ReadLine(); !errors.Is(err, ipc.ErrTooLarge) {
		t.Fatalf("got %v", err)
	}
	if r.n > 64<<10 {
		t.Fatalf("read %d bytes for a 1000-byte limit", r.n)
	}
}

// countingReader yields 'x' forever and counts what it gave.
type countingReader struct{ n int }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	r.n += len(p)
	return len(p), nil
}

func TestRawConn(t *testing.T) {
	a, b := tcpPair(t)
	rc := FramingRaw.Wrap(b, 4)
	a.Write([]byte("abcdefghij"))
	var got []byte
	for len(got) < 10 {
		p, err := rc.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if len(p) > 4 {
			t.Fatalf("a %d-byte message over the limit of 4", len(p))
		}
		got = append(got, p...)
	}
	if string(got) != "abcdefghij" {
		t.Fatalf("got %q", got)
	}
	rc.WriteMessage([]byte{0, 1, 2})
	buf := make([]byte, 3)
	if _, err := io.ReadFull(a, buf); err != nil || !bytes.Equal(buf, []byte{0, 1, 2}) {
		t.Fatalf("wrote %v, %v", buf, err)
	}
}

func TestJSONConnBinary(t *testing.T) {
	a, b := tcpPair(t)
	send, recv := FramingJSON.Wrap(a, 64), FramingJSON.Wrap(b, 64)
	msgs := [][]byte{[]byte("héllo <&>"), {0xff, 0x00, '\n', 0x80}, {}, []byte("tab\there")}
	for _, m := range msgs {
		if err := send.WriteMessage(m); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range msgs {
		p, err := recv.ReadMessage()
		if err != nil || !bytes.Equal(p, m) {
			t.Fatalf("got %q, %v, want %q", p, err, m)
		}
	}
}

func TestJSONLines(t *testing.T) {
	for _, tc := range []struct {
		line string
		want string
		err  error
	}{
		{`{"data":"hi"}`, "hi", nil},
		{`{"data_b64":"/wA="}`, "\xff\x00", nil},
		{`{"data":""}`, "", nil},
		{`{"data":"a","data_b64":"YQ=="}`, "", ipc.ErrBadData},
		{`{}`, "", ipc.ErrBadData},
		{`[1]`, "", ipc.ErrBadData},
		{`{"data_b64":"!!"}`, "", ipc.ErrBadData},
		{`{"data":"0123456789"}`, "", ipc.ErrTooLarge},
	} {
		p, err := DecodeJSONMessage([]byte(tc.line), 8)
		if !errors.Is(err, tc.err) || err == nil && string(p) != tc.want {
			t.Errorf("%s: got %q, %v", tc.line, p, err)
		}
	}
	if got := string(AppendJSONMessage(nil, []byte("<a>"))); got != `{"data":"<a>"}`+"\n" {
		t.Errorf("AppendJSONMessage = %q", got)
	}
	if got := string(AppendJSONMessage(nil, []byte{0xff})); got != `{"data_b64":"/w=="}`+"\n" {
		t.Errorf("AppendJSONMessage = %q", got)
	}
}

func TestJSONConnSkipsBlankLines(t *testing.T) {
	c := NewJSONConn(rwc{strings.NewReader("\n  \n{\"data\":\"x\"}\n")}, 8)
	if p, err := c.ReadMessage(); err != nil || string(p) != "x" {
		t.Fatalf("got %q, %v", p, err)
	}
	if _, err := c.ReadMessage(); err != io.EOF {
		t.Fatalf("got %v, want EOF", err)
	}
}

func TestIPCFramingOverStream(t *testing.T) {
	var buf bytes.Buffer
	c := FramingIPC.Wrap(rwc{&buf}, 8)
	c.WriteMessage([]byte("abc"))
	c.WriteMessage(nil)
	for _, want := range []string{"abc", ""} {
		if p, err := c.ReadMessage(); err != nil || string(p) != want {
			t.Fatalf("got %q, %v", p, err)
		}
	}
}

// rwc makes a reader (and writer, when it is one) a ReadWriteCloser.
type rwc struct{ r io.Reader }

func (c rwc) Read(p []byte) (int, error) { return c.r.Read(p) }
func (c rwc) Write(p []byte) (int, error) {
	if w, ok := c.r.(io.Writer); ok {
		return w.Write(p)
	}
	return 0, io.ErrClosedPipe
}
func (c rwc) Close() error { return nil }

func FuzzLineReader(f *testing.F) {
	f.Add([]byte("one\ntwo\r\n\nlast"), 4)
	f.Add([]byte("\r\r\n\n"), 1)
	f.Fuzz(func(t *testing.T, in []byte, max int) {
		max = max%64 + 1
		if max < 1 {
			max += 64
		}
		lr := NewLineReader(iotest.HalfReader(bytes.NewReader(in)), max)
		total := 0
		for {
			line, err := lr.ReadLine()
			if err != nil {
				if err != io.EOF && !errors.Is(err, ipc.ErrTooLarge) {
					t.Fatal(err)
				}
				return
			}
			if len(line) > max || bytes.IndexByte(line, '\n') >= 0 {
				t.Fatalf("line %q for a limit of %d", line, max)
			}
			if total += len(line) + 1; total > len(in)+1 {
				t.Fatal("more out than in")
			}
		}
	})
}

func FuzzJSONReader(f *testing.F) {
	f.Add([]byte("{\"data\":\"hi\"}\n{\"data_b64\":\"/wA=\"}\n\n"))
	f.Add([]byte(`{"data":"\u00ff\ud800"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		c := NewJSONConn(rwc{bytes.NewReader(in)}, 32)
		for {
			p, err := c.ReadMessage()
			if err != nil {
				return
			}
			if len(p) > 32 {
				t.Fatalf("a %d-byte message over the limit", len(p))
			}
			// What it reads, it writes back as a line that reads the same.
			back, err := DecodeJSONMessage(bytes.TrimSuffix(AppendJSONMessage(nil, p), []byte("\n")), 32)
			if err != nil || !bytes.Equal(back, p) {
				t.Fatalf("%q does not survive a round trip: %q, %v", p, back, err)
			}
		}
	})
}

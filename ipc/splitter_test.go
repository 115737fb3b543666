package ipc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
)

// splitAll plays the loop's part: it reads data to a splitter in reads of
// the given sizes (cycled; 1 when none), through a scratch buffer of
// scratch bytes or straight into a large frame as direct says, and
// returns the payloads handed out and how the stream ended: io.EOF,
// io.ErrUnexpectedEOF (in the middle of a frame) or the splitter's error.
func splitAll(data, sizes []byte, limit, scratch int, borrow bool) ([][]byte, error) {
	s := splitter{max: limit}
	buf := make([]byte, scratch)
	var got [][]byte
	lent := 0 // bytes of buf lent out
	for i := 0; ; i++ {
		for {
			p, ok := s.next()
			if !ok {
				break
			}
			if borrow {
				p = bytes.Clone(p) // lent until the next read
			}
			got = append(got, p)
		}
		if s.err != nil {
			return got, s.err
		}
		if len(data) == 0 {
			if s.midFrame() {
				return got, io.ErrUnexpectedEOF
			}
			return got, io.EOF
		}
		n := 1
		if len(sizes) > 0 {
			n = max(int(sizes[i%len(sizes)])*37, 1) // reads of up to 9 KiB
		}
		if d := s.direct(); d != nil {
			n = copy(d, data[:min(n, len(data))])
			s.grew(n)
		} else {
			if borrow {
				for i := range lent { // what was lent is over: spoil it
					buf[i] = 0xaa
				}
			}
			n = copy(buf, data[:min(n, len(data))])
			lent = n
			s.feed(buf[:n], borrow)
		}
		data = data[n:]
	}
}

// sameEnd reports whether two ends of stream are of the same kind.
func sameEnd(a, b error) bool {
	switch {
	case errors.Is(a, ErrTooLarge):
		return errors.Is(b, ErrTooLarge)
	}
	return a == b
}

func checkSplit(t *testing.T, data, sizes []byte, limit, scratch int, borrow bool) {
	t.Helper()
	want, wantEnd := readAll(NewFrameReader(bytes.NewReader(data), limit))
	got, end := splitAll(data, sizes, limit, scratch, borrow)
	if len(got) != len(want) {
		t.Fatalf("%d frames, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("frame %d: %q, want %q", i, got[i], want[i])
		}
		if cap(got[i]) != len(got[i]) && !borrow {
			t.Fatalf("frame %d: capacity %d past its end %d", i, cap(got[i]), len(got[i]))
		}
	}
	if !sameEnd(end, wantEnd) {
		t.Fatalf("ended with %v, want %v", end, wantEnd)
	}
}

func TestSplitter(t *testing.T) {
	var many []byte
	for i := range 1000 {
		many = AppendFrame(many, fmt.Appendf(nil, "message %d", i))
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 100<<10/16)
	mixed := AppendFrame(AppendFrame(AppendFrame(nil, []byte("a")), big), []byte("b"))
	cases := []struct {
		name string
		data []byte
	}{
		{"empty stream", nil},
		{"empty message", AppendFrame(nil, nil)},
		{"1000 frames", many},
		{"a large frame between small ones", mixed},
		{"cut in the header", []byte{0, 0}},
		{"cut in the payload", AppendFrame(nil, []byte("hello"))[:7]},
		{"over the limit", []byte{0, 0x10, 0, 1, 'x'}},
		{"limit after frames", append(AppendFrame(nil, []byte("ok")), 0xff, 0xff, 0xff, 0xff)},
	}
	for _, tc := range cases {
		for _, sizes := range [][]byte{nil, {1}, {2, 3}, {255}, {7, 200, 1}} {
			for _, borrow := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%v/%v", tc.name, sizes, borrow), func(t *testing.T) {
					checkSplit(t, tc.data, sizes, 1<<20, 64<<10, borrow)
				})
			}
		}
	}
}

// TestSplitterHoldsNothingIdle: once its frames are handed out, a
// connection's splitter keeps no memory.
func TestSplitterHoldsNothingIdle(t *testing.T) {
	s := splitter{max: DefaultMaxSize}
	s.feed(AppendFrame(AppendFrame(nil, []byte("a")), []byte("b")), false)
	for {
		if _, ok := s.next(); !ok {
			break
		}
	}
	if s.part != nil || s.done != nil || s.ready != nil {
		t.Fatalf("an idle splitter holds %d+%d+%d bytes", cap(s.part), cap(s.done), cap(s.ready))
	}
}

// TestSplitterLargeFrameDirect: the rest of a large frame is read straight
// into it.
func TestSplitterLargeFrameDirect(t *testing.T) {
	s := splitter{max: DefaultMaxSize}
	payload := bytes.Repeat([]byte("x"), 200<<10)
	frame := AppendFrame(nil, payload)
	s.feed(frame[:1000], false)
	d := s.direct()
	if d == nil || len(d) != len(frame)-1000 {
		t.Fatalf("direct buffer of %d bytes, want %d", len(d), len(frame)-1000)
	}
	s.grew(copy(d, frame[1000:]))
	p, ok := s.next()
	if !ok || !bytes.Equal(p, payload) {
		t.Fatal("the large frame did not come whole")
	}
}

// FuzzSplitter feeds any bytes, read any way, to a splitter with a small
// limit, and checks it hands out exactly what a FrameReader returns, and
// ends the same way.
func FuzzSplitter(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0}, []byte{1}, false)
	f.Add(append(AppendFrame(nil, []byte("a")), AppendFrame(nil, []byte("bc"))...), []byte{3, 1, 7}, true)
	f.Add([]byte{0, 0, 1, 0, 'x'}, []byte{2}, false)
	f.Add([]byte{0, 0}, []byte{}, true)
	const limit = 64
	f.Fuzz(func(t *testing.T, data, sizes []byte, borrow bool) {
		checkSplit(t, data, sizes, limit, 100, borrow)
	})
}

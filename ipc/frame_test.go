package ipc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"testing"
	"testing/iotest"

	"golang.org/x/sys/unix"
)

// socketPair returns the two ends of a connected Unix stream socket.
func socketPair(t testing.TB) (*net.UnixConn, *net.UnixConn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ends [2]*net.UnixConn
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socketpair")
		nc, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		ends[i] = nc.(*net.UnixConn)
		t.Cleanup(func() { ends[i].Close() })
	}
	return ends[0], ends[1]
}

// payloads returns messages of assorted sizes, some larger than a read
// chunk, each filled with a pattern that tells it apart.
func payloads() [][]byte {
	var ps [][]byte
	for i, n := range []int{0, 1, 3, 4, 5, 100, 0, readChunk - HeaderSize, readChunk, 3*readChunk + 7, 2} {
		ps = append(ps, bytes.Repeat([]byte{byte('a' + i)}, n))
	}
	return ps
}

func encode(ps [][]byte) []byte {
	var b []byte
	for _, p := range ps {
		b = AppendFrame(b, p)
	}
	return b
}

// readAll reads frames until an error and returns them with the error.
func readAll(fr *FrameReader) ([][]byte, error) {
	var got [][]byte
	for {
		p, err := fr.ReadFrame()
		if err != nil {
			return got, err
		}
		got = append(got, p)
	}
}

func sameFrames(t *testing.T, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d frames, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("frame %d: got %d bytes %.20q, want %d bytes %.20q", i, len(got[i]), got[i], len(want[i]), want[i])
		}
	}
}

func TestFrameReaderOneByteReads(t *testing.T) {
	want := payloads()
	fr := NewFrameReader(iotest.OneByteReader(bytes.NewReader(encode(want))), 0)
	got, err := readAll(fr)
	if err != io.EOF {
		t.Fatalf("end of stream: got %v, want io.EOF", err)
	}
	sameFrames(t, got, want)
}

func TestFrameReaderHalfReads(t *testing.T) {
	want := payloads()
	fr := NewFrameReader(iotest.HalfReader(bytes.NewReader(encode(want))), 0)
	got, err := readAll(fr)
	if err != io.EOF {
		t.Fatalf("end of stream: got %v, want io.EOF", err)
	}
	sameFrames(t, got, want)
}

func TestFrameReaderManyFramesInOneWrite(t *testing.T) {
	a, b := socketPair(t)
	var want [][]byte
	for i := range 1000 {
		want = append(want, binary.BigEndian.AppendUint32(nil, uint32(i)))
	}
	go func() {
		a.Write(encode(want)) // one write of 8000 bytes
		a.Close()
	}()
	got, err := readAll(NewFrameReader(b, 0))
	if err != io.EOF {
		t.Fatalf("end of stream: got %v, want io.EOF", err)
	}
	sameFrames(t, got, want)
}

// readLent reads frames as a fast reader does, ReadBuffered until it
// fails and then ReadFrame once, copying each lent payload before the
// next read, and returns them with the error that ended the stream.
func readLent(fr *FrameReader) ([][]byte, error) {
	var got [][]byte
	for {
		if p, ok := fr.ReadBuffered(); ok {
			got = append(got, bytes.Clone(p))
			continue
		}
		p, err := fr.ReadFrame()
		if err != nil {
			return got, err
		}
		got = append(got, p)
	}
}

func TestFrameReaderReadBuffered(t *testing.T) {
	a, b := socketPair(t)
	want := payloads()
	for i := range 3000 {
		want = append(want, binary.BigEndian.AppendUint32(nil, uint32(i)))
	}
	go func() {
		data := encode(want)
		for len(data) > 0 { // writes that split frames
			n := min(len(data), 7777)
			a.Write(data[:n])
			data = data[n:]
		}
		a.Close()
	}()
	fr := NewFrameReader(b, 0)
	if p, ok := fr.ReadBuffered(); ok {
		t.Fatalf("nothing read yet, but ReadBuffered lent %q", p)
	}
	got, err := readLent(fr)
	if err != io.EOF {
		t.Fatalf("end of stream: got %v, want io.EOF", err)
	}
	sameFrames(t, got, want)
}

func TestFrameReaderReadBufferedLeavesOverLimitToReadFrame(t *testing.T) {
	data := append(AppendFrame(nil, []byte("ok")), AppendFrame(nil, []byte("too long"))...)
	fr := NewFrameReader(bytes.NewReader(data), 4)
	if p, err := fr.ReadFrame(); err != nil || string(p) != "ok" {
		t.Fatalf("first frame: %q, %v", p, err)
	}
	if p, ok := fr.ReadBuffered(); ok {
		t.Fatalf("a frame over the limit was lent: %q", p)
	}
	if _, err := fr.ReadFrame(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
}

func TestFrameReaderPayloadIsCallers(t *testing.T) {
	want := [][]byte{[]byte("first"), []byte("second"), bytes.Repeat([]byte("x"), readChunk), []byte("last")}
	fr := NewFrameReader(iotest.HalfReader(bytes.NewReader(encode(want))), 0)
	got, err := readAll(fr)
	if err != io.EOF {
		t.Fatal(err)
	}
	// Later reads must not have overwritten earlier payloads, and writing
	// into one payload must not change another.
	sameFrames(t, got, want)
	for _, p := range got {
		clear(p[:cap(p)])
	}
	for i, p := range got {
		if len(p) != len(want[i]) {
			t.Fatalf("frame %d changed length", i)
		}
	}
}

func TestFrameReaderLimits(t *testing.T) {
	const limit = 1000
	for _, n := range []int{0, 1, limit} {
		p := bytes.Repeat([]byte{'z'}, n)
		got, err := NewFrameReader(bytes.NewReader(AppendFrame(nil, p)), limit).ReadFrame()
		if err != nil || !bytes.Equal(got, p) {
			t.Fatalf("%d-byte frame with limit %d: got %d bytes, %v", n, limit, len(got), err)
		}
	}
	for _, n := range []uint32{limit + 1, 1 << 31, 1<<32 - 1} {
		hdr := binary.BigEndian.AppendUint32(nil, n)
		_, err := NewFrameReader(bytes.NewReader(hdr), limit).ReadFrame()
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("length %d with limit %d: got %v, want ErrTooLarge", n, limit, err)
		}
	}
	if m := NewFrameReader(nil, 0).Max(); m != DefaultMaxSize {
		t.Fatalf("default limit is %d, want %d", m, DefaultMaxSize)
	}
}

// TestFrameReaderRefusesBeforeAllocating proves that an over-limit length
// costs no allocation of its size: a reader with a 64 MiB limit is handed
// 64 MiB + 1 and 4 GiB - 1 announcements.
func TestFrameReaderRefusesBeforeAllocating(t *testing.T) {
	const limit = 64 << 20
	for _, n := range []uint32{limit + 1, 1<<32 - 1} {
		hdr := binary.BigEndian.AppendUint32(nil, n)
		hdr = append(hdr, "some bytes of what would be the payload"...)
		var before, after runtime.MemStats
		const runs = 20
		runtime.ReadMemStats(&before)
		for range runs {
			_, err := NewFrameReader(bytes.NewReader(hdr), limit).ReadFrame()
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("length %d: got %v, want ErrTooLarge", n, err)
			}
		}
		runtime.ReadMemStats(&after)
		perRun := (after.TotalAlloc - before.TotalAlloc) / runs
		if perRun > 2*readChunk+4096 {
			t.Fatalf("length %d: %d bytes allocated per refused frame; the payload must not be allocated", n, perRun)
		}
		// Once the reader's buffer exists, a refusal costs only its error.
		fr := NewFrameReader(bytes.NewReader(hdr), limit)
		fr.ReadFrame()
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := fr.ReadFrame(); !errors.Is(err, ErrTooLarge) {
				t.Fatal(err)
			}
		})
		if allocs > 8 {
			t.Fatalf("length %d: %v allocations per refusal", n, allocs)
		}
	}
}

func TestFrameReaderTruncated(t *testing.T) {
	whole := AppendFrame(nil, []byte("hello"))
	big := AppendFrame(nil, bytes.Repeat([]byte{'b'}, 3*readChunk))
	cases := map[string][]byte{
		"half a header":        whole[:2],
		"header only":          whole[:HeaderSize],
		"part of a payload":    whole[:len(whole)-1],
		"part of a big one":    big[:2*readChunk],
		"after a whole frame":  append(AppendFrame(nil, []byte("ok")), whole[:3]...),
		"big after one frame":  append(AppendFrame(nil, nil), big[:len(big)-1]...),
		"one byte of a header": {0},
	}
	for name, in := range cases {
		for _, chunked := range []bool{false, true} {
			var r io.Reader = bytes.NewReader(in)
			if chunked {
				r = iotest.OneByteReader(r)
			}
			_, err := readAll(NewFrameReader(r, 0))
			if err != io.ErrUnexpectedEOF {
				t.Errorf("%s (one-byte reads: %v): got %v, want io.ErrUnexpectedEOF", name, chunked, err)
			}
		}
	}
	if _, err := NewFrameReader(bytes.NewReader(nil), 0).ReadFrame(); err != io.EOF {
		t.Fatalf("empty stream: got %v, want io.EOF", err)
	}
}

func TestFrameReaderPassesErrors(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(bytes.NewReader(AppendFrame(nil, []byte("ok"))), iotest.ErrReader(boom))
	got, err := readAll(NewFrameReader(r, 0))
	if len(got) != 1 || !errors.Is(err, boom) {
		t.Fatalf("got %d frames and %v, want 1 frame and boom", len(got), err)
	}
}

func TestWriteFrame(t *testing.T) {
	var b bytes.Buffer
	for _, p := range [][]byte{nil, []byte("x"), []byte("hello")} {
		if err := WriteFrame(&b, p); err != nil {
			t.Fatal(err)
		}
	}
	want := "\x00\x00\x00\x00\x00\x00\x00\x01x\x00\x00\x00\x05hello"
	if b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
}

// chunkReader returns its data in reads whose sizes come from sizes, in
// turn (a size of 0 counts as 1), to try every way a stream may be split.
type chunkReader struct {
	data  []byte
	sizes []byte
	i     int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := 1
	if len(r.sizes) > 0 {
		n = max(int(r.sizes[r.i%len(r.sizes)]), 1)
		r.i++
	}
	n = min(n, len(p), len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// FuzzFrameReader feeds any bytes, split any way, to a FrameReader with a
// small limit, read with ReadBuffered first and ReadFrame when nothing
// whole is buffered. It must not panic nor return a payload over the
// limit, and the frames it returns, encoded again, must be a prefix of its
// input.
func FuzzFrameReader(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0}, []byte{1})
	f.Add(append(AppendFrame(nil, []byte("a")), AppendFrame(nil, []byte("bc"))...), []byte{3, 1, 7})
	f.Add([]byte{0, 0, 1, 0, 'x'}, []byte{2})
	f.Add([]byte{0, 0}, []byte{})
	const limit = 64
	f.Fuzz(func(t *testing.T, data, sizes []byte) {
		fr := NewFrameReader(&chunkReader{data: data, sizes: sizes}, limit)
		var again []byte
		for {
			p, ok := fr.ReadBuffered()
			var err error
			if !ok {
				p, err = fr.ReadFrame()
			}
			if err != nil {
				switch {
				case err == io.EOF:
					if !bytes.Equal(again, data) {
						t.Fatalf("clean end after %d of %d bytes", len(again), len(data))
					}
				case err == io.ErrUnexpectedEOF, errors.Is(err, ErrTooLarge):
				default:
					t.Fatalf("unexpected error %v", err)
				}
				break
			}
			if len(p) > limit {
				t.Fatalf("a payload of %d bytes passed a limit of %d", len(p), limit)
			}
			again = AppendFrame(again, p)
			if !bytes.HasPrefix(data, again) {
				t.Fatalf("frames read are not what was sent: %x is not a prefix of %x", again, data)
			}
		}
	})
}

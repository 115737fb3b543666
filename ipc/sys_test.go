package ipc

import (
	"bytes"
	"io"
	"testing"
)

// TestWritevNow writes more buffers than one writev takes, skipping part
// of the first, and reads back exactly those bytes.
func TestWritevNow(t *testing.T) {
	a, b := socketPair(t)
	var bufs [][]byte
	var want []byte
	for i := range maxIovecs + 100 {
		p := []byte{byte(i), byte(i >> 8)}
		if i%7 == 0 {
			p = nil // empty buffers are passed over
		}
		bufs = append(bufs, p)
		want = append(want, p...)
	}
	bufs[0] = []byte("skip me:")
	want = append([]byte("me:"), want...)
	raw, err := a.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for i, skip := 0, len("skip "); i < len(bufs); {
		n, err := now(raw.Write, func(fd int) (int, error) { return writevNow(fd, bufs[i:], skip) })
		if err != nil {
			t.Fatal(err)
		}
		total += n
		k, rest := written(bufs[i:], skip+n)
		i, skip = i+k, rest
	}
	if total != len(want) {
		t.Fatalf("wrote %d bytes, want %d", total, len(want))
	}
	a.Close()
	got, err := io.ReadAll(b)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes (%v), want %d", len(got), err, len(want))
	}
}

func TestWritten(t *testing.T) {
	bufs := [][]byte{[]byte("ab"), nil, []byte("cde")}
	for _, tc := range []struct{ n, i, skip int }{
		{0, 0, 0}, {1, 0, 1}, {2, 2, 0}, {4, 2, 2}, {5, 3, 0},
	} {
		if i, skip := written(bufs, tc.n); i != tc.i || skip != tc.skip {
			t.Errorf("written(%d) = %d, %d; want %d, %d", tc.n, i, skip, tc.i, tc.skip)
		}
	}
}

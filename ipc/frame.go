package ipc

import (
	"encoding/binary"
	"io"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// HeaderSize is the size of a frame's length prefix.
const HeaderSize = 4

// DefaultMaxSize is the largest payload accepted unless a limit is set.
const DefaultMaxSize = 1 << 20

// readChunk is the size of one read from the socket. Small frames are parsed
// straight out of it, so a stream of them costs one read per chunk.
const readChunk = 16 << 10

// FrameReader splits a byte stream into LibIPC frames: a 4-byte big-endian
// payload length, then the payload. It reassembles a frame that arrives in
// any number of reads and splits many frames out of one read. A length over
// the limit is refused before any memory is allocated for it.
type FrameReader struct {
	r   io.Reader
	max int
	raw syscall.RawConn // set when r is a socket: see readSome
	buf []byte          // nil while nothing is buffered on a socket
	off int             // start of unparsed bytes in buf
	end int             // end of valid bytes in buf
}

// NewFrameReader returns a reader of frames from r that refuses payloads
// longer than max bytes (DefaultMaxSize when max <= 0).
func NewFrameReader(r io.Reader, max int) *FrameReader {
	if max <= 0 {
		max = DefaultMaxSize
	}
	fr := &FrameReader{r: r, max: max}
	if sc, ok := r.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			fr.raw = raw
		}
	}
	return fr
}

// Max returns the reader's payload limit.
func (fr *FrameReader) Max() int { return fr.max }

// Buffered reports how many bytes were read but not yet returned as frames.
func (fr *FrameReader) Buffered() int { return fr.end - fr.off }

// ReadFrame returns the next payload. The returned slice is the caller's:
// the reader never writes to it again. At a clean end of stream between
// frames it returns io.EOF; inside a frame, io.ErrUnexpectedEOF. A length
// over the limit returns an error wrapping ErrTooLarge.
func (fr *FrameReader) ReadFrame() ([]byte, error) {
	if err := fr.fill(HeaderSize); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(fr.buf[fr.off:])
	if uint64(n) > uint64(fr.max) {
		return nil, tooLarge(n, fr.max)
	}
	size := int(n)
	if HeaderSize+size <= len(fr.buf) {
		if err := fr.fill(HeaderSize + size); err != nil {
			return nil, unexpected(err)
		}
		p := make([]byte, size)
		copy(p, fr.buf[fr.off+HeaderSize:])
		fr.off += HeaderSize + size
		return p, nil
	}
	// The frame is not all here. Take what is buffered and read the rest
	// straight into the payload, so a large frame is copied once.
	p := make([]byte, size)
	got := copy(p, fr.buf[fr.off+HeaderSize:fr.end])
	fr.off, fr.end = 0, 0
	if _, err := io.ReadFull(fr.r, p[got:]); err != nil {
		return nil, unexpected(err)
	}
	return p, nil
}

// ReadBuffered returns the next payload when its whole frame is already
// in the buffer, without reading; ok is false when it is not (or when its
// length is over the limit: ReadFrame reports that). The payload is lent,
// not copied: it is valid until the next call of a read method, so a
// caller that prints or counts messages allocates nothing for them.
func (fr *FrameReader) ReadBuffered() (p []byte, ok bool) {
	avail := fr.end - fr.off
	if avail < HeaderSize {
		return nil, false
	}
	n := binary.BigEndian.Uint32(fr.buf[fr.off:])
	if uint64(n) > uint64(fr.max) || uint64(n) > uint64(avail-HeaderSize) {
		return nil, false
	}
	start := fr.off + HeaderSize
	end := start + int(n)
	fr.off = end
	return fr.buf[start:end:end], true
}

// unexpected turns an end of stream inside a frame into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// fill makes at least n unparsed bytes available in the buffer, n being
// no more than readChunk.
func (fr *FrameReader) fill(n int) error {
	if fr.end-fr.off >= n {
		return nil
	}
	if fr.off == fr.end {
		fr.off, fr.end = 0, 0
		if fr.raw != nil && fr.buf != nil {
			// Nothing waits: hold no buffer while the peer is quiet.
			putChunk(fr.buf)
			fr.buf = nil
		}
	} else if fr.off > 0 {
		fr.end = copy(fr.buf, fr.buf[fr.off:fr.end])
		fr.off = 0
	}
	for fr.end < n {
		m, err := fr.readSome()
		fr.end += m
		if err != nil {
			if fr.end >= n {
				return nil
			}
			if err == io.EOF && fr.end > 0 {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// readSome reads what is there into the buffer, after fr.end. On a
// socket it waits for data before taking a buffer from the pool, so that
// an idle connection costs no buffer at all.
func (fr *FrameReader) readSome() (int, error) {
	if fr.raw == nil {
		if fr.buf == nil {
			fr.buf = make([]byte, readChunk)
		}
		return fr.r.Read(fr.buf[fr.end:])
	}
	var m int
	var rerr error
	err := fr.raw.Read(func(fd uintptr) bool {
		if fr.buf == nil {
			fr.buf = getChunk()
		}
		m, rerr = readNow(int(fd), fr.buf[fr.end:])
		if rerr == unix.EAGAIN {
			if fr.end == 0 {
				putChunk(fr.buf)
				fr.buf = nil
			}
			return false // wait until readable
		}
		return true
	})
	switch {
	case err != nil:
		return 0, err
	case rerr != nil:
		return 0, rerr
	case m == 0:
		return 0, io.EOF
	}
	return m, nil
}

// now runs op once on the fd behind a RawConn's Read or Write (do),
// without waiting for the fd to be ready. An error of op, such as EAGAIN,
// is returned as is.
func now(do func(func(uintptr) bool) error, op func(fd int) (int, error)) (int, error) {
	var n int
	var operr error
	err := do(func(fd uintptr) bool {
		n, operr = op(int(fd))
		return true
	})
	if err != nil {
		return 0, err
	}
	return n, operr
}

// chunks recycles read buffers between connections.
var chunks = sync.Pool{New: func() any { b := make([]byte, readChunk); return &b }}

func getChunk() []byte { return *(chunks.Get().(*[]byte)) }

func putChunk(b []byte) { chunks.Put(&b) }

// AppendFrame appends payload to dst as one frame.
func AppendFrame(dst, payload []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(payload)))
	return append(dst, payload...)
}

// WriteFrame writes payload to w as one frame in a single Write.
func WriteFrame(w io.Writer, payload []byte) error {
	_, err := w.Write(AppendFrame(make([]byte, 0, HeaderSize+len(payload)), payload))
	return err
}

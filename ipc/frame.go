package ipc

import (
	"encoding/binary"
	"fmt"
	"io"
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
	buf []byte // allocated on first read, so an idle reader costs nothing
	off int    // start of unparsed bytes in buf
	end int    // end of valid bytes in buf
}

// NewFrameReader returns a reader of frames from r that refuses payloads
// longer than max bytes (DefaultMaxSize when max <= 0).
func NewFrameReader(r io.Reader, max int) *FrameReader {
	if max <= 0 {
		max = DefaultMaxSize
	}
	return &FrameReader{r: r, max: max}
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
		return nil, fmt.Errorf("%w: %d bytes announced, limit is %d", ErrTooLarge, n, fr.max)
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

// unexpected turns an end of stream inside a frame into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// fill makes at least n unparsed bytes available in the buffer, n being
// no more than len(fr.buf).
func (fr *FrameReader) fill(n int) error {
	if fr.buf == nil {
		fr.buf = make([]byte, readChunk)
	}
	if fr.end-fr.off >= n {
		return nil
	}
	if fr.off > 0 {
		fr.end = copy(fr.buf, fr.buf[fr.off:fr.end])
		fr.off = 0
	}
	for fr.end < n {
		m, err := fr.r.Read(fr.buf[fr.end:])
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

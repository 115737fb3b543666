package ipc

import (
	"encoding/binary"
	"fmt"
)

// directMin is how much of a large frame must be missing for the loop to
// read the rest straight into the frame instead of its shared buffer.
const directMin = 16 << 10

// splitter cuts frames out of the bytes the loop reads from a connection,
// without ever blocking: it is fed one read at a time and hands out the
// complete frames of what it was fed. The frames of one read share one
// allocation, copied once from the loop's read buffer; an idle
// connection holds nothing. It is the loop's counterpart of FrameReader.
type splitter struct {
	max int
	// part is an incomplete frame, header included. Once its header is
	// known, its capacity is the whole frame.
	part []byte
	// done is the frame part became when complete; it comes before ready.
	done []byte
	// ready holds complete frames, back to back, not yet handed out.
	ready []byte
	// err ends the connection once ready is handed out: a length over
	// the limit, or what reading the socket returned.
	err error
	// budget, when set, is charged the capacity of part (charged bytes)
	// while it is incomplete: a service bounds the memory its clients'
	// partial frames hold, all together.
	budget  *budget
	charged int
	// began is set when the last feed started a new partial frame.
	began bool
}

// direct returns where the next read should go when a large frame is on
// its way: straight into the frame, so that it is copied only once.
func (s *splitter) direct() []byte {
	if len(s.part) >= HeaderSize && cap(s.part)-len(s.part) >= directMin {
		return s.part[len(s.part):cap(s.part)]
	}
	return nil
}

// grew takes n bytes read into what direct returned.
func (s *splitter) grew(n int) {
	s.part = s.part[:len(s.part)+n]
	if len(s.part) == cap(s.part) {
		s.done, s.part = s.part, nil
		s.release()
	}
}

// feed takes the bytes of one read. It is called only once every frame
// of the previous read was handed out. Unless borrow is set, data is not
// kept: the complete frames are copied to one new allocation; with
// borrow, they are handed out from data itself, which the caller must not
// reuse while they are in use.
func (s *splitter) feed(data []byte, borrow bool) {
	if len(s.part) > 0 {
		data = s.finish(data)
		if s.err != nil {
			return
		}
	}
	end := 0
	for len(data)-end >= HeaderSize {
		n := binary.BigEndian.Uint32(data[end:])
		if uint64(n) > uint64(s.max) {
			s.err = tooLarge(n, s.max)
			break
		}
		if uint64(len(data)-end-HeaderSize) < uint64(n) {
			break
		}
		end += HeaderSize + int(n)
	}
	switch {
	case end > 0 && borrow:
		s.ready = data[:end]
	case end > 0:
		s.ready = append([]byte(nil), data[:end]...)
	}
	if rest := data[end:]; len(rest) > 0 && s.err == nil {
		size := HeaderSize
		if len(rest) >= HeaderSize {
			size += int(binary.BigEndian.Uint32(rest)) // checked above
		}
		if buf, err := s.alloc(size); err != nil {
			s.err = err
		} else {
			s.part, s.began = append(buf, rest...), true
		}
	}
}

// finish completes part with the start of data and returns the rest.
func (s *splitter) finish(data []byte) []byte {
	if len(s.part) < HeaderSize {
		k := min(HeaderSize-len(s.part), len(data))
		s.part = append(s.part, data[:k]...)
		data = data[k:]
		if len(s.part) < HeaderSize {
			return data
		}
		n := binary.BigEndian.Uint32(s.part)
		if uint64(n) > uint64(s.max) {
			s.err, s.part = tooLarge(n, s.max), nil
			return nil
		}
		buf, err := s.alloc(HeaderSize + int(n))
		if err != nil {
			s.err, s.part = err, nil
			return nil
		}
		s.part = append(buf, s.part...)
	}
	k := min(cap(s.part)-len(s.part), len(data))
	s.part = append(s.part, data[:k]...)
	if len(s.part) == cap(s.part) {
		s.done, s.part = s.part, nil
		s.release()
	}
	return data[k:]
}

// alloc returns an empty buffer for a partial frame of size bytes, header
// included, in place of the one part has, charged to the budget.
func (s *splitter) alloc(size int) ([]byte, error) {
	s.release()
	if err := s.budget.charge(size); err != nil {
		return nil, err
	}
	s.charged = size
	return make([]byte, 0, size), nil
}

// release gives back what the partial frame was charged: it is complete,
// or dropped.
func (s *splitter) release() {
	if s.charged > 0 {
		s.budget.refund(s.charged)
		s.charged = 0
	}
}

// next returns the next complete payload, if any. Its capacity ends
// where it does, so appending to it never reaches another frame.
func (s *splitter) next() ([]byte, bool) {
	if s.done != nil {
		p := s.done[HeaderSize:]
		s.done = nil
		return p, true
	}
	if len(s.ready) == 0 {
		return nil, false
	}
	end := HeaderSize + int(binary.BigEndian.Uint32(s.ready))
	p := s.ready[HeaderSize:end:end]
	s.ready = s.ready[end:]
	if len(s.ready) == 0 {
		s.ready = nil
	}
	return p, true
}

// has reports whether a complete payload waits.
func (s *splitter) has() bool { return s.done != nil || len(s.ready) > 0 }

// midFrame reports whether part of a frame was read.
func (s *splitter) midFrame() bool { return len(s.part) > 0 }

// tooLarge is the error for a frame announcing n bytes over the limit.
func tooLarge(n uint32, limit int) error {
	return fmt.Errorf("%w: %d bytes announced, limit is %d", ErrTooLarge, n, limit)
}

package ipc

import (
	"encoding/binary"
	"fmt"
)

// ScheduleFrames queues frames, whole LibIPC frames back to back (each a
// 4-byte big-endian length, then its payload), to be sent as they are,
// after what is queued already. They are not copied: the caller must
// never modify frames afterwards, and may queue the same bytes on any
// number of connections, so that a router's fan-out of one buffer costs
// no copy per recipient. It returns how many frames it queued: under
// OverflowDrop, those that fit in the queue, fewer than all with
// ErrQueueFull; otherwise all, or none with the error that stopped it (as
// ScheduleBatch). Bytes that are not whole frames are refused with
// ErrBadData.
func (c *Conn) ScheduleFrames(frames []byte) (int, error) {
	count, err := wholeFrames(frames)
	if err != nil || count == 0 {
		return 0, err
	}
	if c.closed.Load() {
		return 0, c.closedErr()
	}
	if f := c.failure.Load(); f != nil {
		return 0, *f
	}
	c.qmu.Lock()
	c.shutTail()
	n, all := count, len(frames)
	if c.overflow == OverflowDrop && c.qbytes > 0 && c.qbytes+all > c.qmax {
		frames, n = framesWithin(frames, c.qmax-c.qbytes)
	}
	if n == 0 {
		return 0, c.room(all) // refuses, and unlocks qmu
	}
	if err := c.room(len(frames)); err != nil {
		return 0, err // room unlocked qmu
	}
	c.enqueueShared(frames)
	if !c.flushing {
		c.flushing = true
		go c.flush()
	}
	if n < count {
		c.refused = true
		c.qmu.Unlock()
		return n, fmt.Errorf("%w: peer %d does not read", ErrQueueFull, c.id)
	}
	c.qmu.Unlock()
	return n, nil
}

// wholeFrames returns how many whole frames frames holds.
func wholeFrames(frames []byte) (int, error) {
	n := 0
	for off := 0; off < len(frames); n++ {
		if len(frames)-off < HeaderSize {
			return 0, fmt.Errorf("%w: %d bytes after %d frames are no frame header", ErrBadData, len(frames)-off, n)
		}
		size := uint64(binary.BigEndian.Uint32(frames[off:]))
		if size > uint64(len(frames)-off-HeaderSize) {
			return 0, fmt.Errorf("%w: frame %d announces %d bytes, %d follow", ErrBadData, n, size, len(frames)-off-HeaderSize)
		}
		off += HeaderSize + int(size)
	}
	return n, nil
}

// framesWithin returns the first whole frames of frames that take at
// most room bytes, and how many they are.
func framesWithin(frames []byte, room int) ([]byte, int) {
	off, n := 0, 0
	for off < len(frames) {
		next := off + HeaderSize + int(binary.BigEndian.Uint32(frames[off:]))
		if next > room {
			break
		}
		off, n = next, n+1
	}
	return frames[:off], n
}

// enqueueShared appends frames to the queue as chunks of their own,
// capped so that nothing is ever appended to them, and of a size the
// pool of chunks never takes back (see recycle). The caller holds qmu.
func (c *Conn) enqueueShared(frames []byte) {
	rest := frames
	if len(rest) == queueChunk {
		c.queue = append(c.queue, rest[:1:1])
		rest = rest[1:]
	}
	c.queue = append(c.queue, rest[:len(rest):len(rest)])
	c.qbytes += len(frames)
	if !c.reports {
		return
	}
	for off := 0; off < len(frames); {
		end := off + HeaderSize + int(binary.BigEndian.Uint32(frames[off:]))
		c.queued = append(c.queued, frames[off+HeaderSize:end:end])
		c.nqueued.Add(1)
		off = end
	}
}

package ipc

import (
	"bytes"
	"context"
	"io"
	"testing"
)

// The benchmarks below time the engine's hot paths in one process, with
// -benchmem: reading a frame, queueing one with Schedule, and handing one
// out with Wait. Each reports allocations per message; where the payload
// is lent (ReadBuffered, Wait with BorrowPayloads) and where Schedule
// copies into its chunks, there must be none. bench/engine.sh measures
// the same paths between two processes against raw sockets.

// streamFrames returns n frames of streamSize bytes, back to back.
func streamFrames(n int) []byte {
	frame := AppendFrame(nil, bytes.Repeat([]byte{'m'}, streamSize))
	return bytes.Repeat(frame, n)
}

// loopReader reads data again and again, for ever.
type loopReader struct {
	data []byte
	off  int
}

func (r *loopReader) Read(p []byte) (int, error) {
	if r.off == len(r.data) {
		r.off = 0
	}
	n := copy(p, r.data[r.off:])
	r.off += n
	return n, nil
}

// BenchmarkFrameRead reads 64-byte frames from a stream: ReadFrame gives
// each payload to the caller (one allocation), ReadBuffered lends it.
func BenchmarkFrameRead(b *testing.B) {
	data := streamFrames(1024)
	b.Run("ReadFrame", func(b *testing.B) {
		fr := NewFrameReader(&loopReader{data: data}, 0)
		b.SetBytes(HeaderSize + streamSize)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := fr.ReadFrame(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ReadBuffered", func(b *testing.B) {
		fr := NewFrameReader(&loopReader{data: data}, 0)
		b.SetBytes(HeaderSize + streamSize)
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := fr.ReadBuffered(); ok {
				continue
			}
			if _, err := fr.ReadFrame(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// drainAll reads r until it ends, in large reads, and reports how many bytes
// it read on the returned channel.
func drainAll(r io.Reader) <-chan int64 {
	done := make(chan int64, 1)
	go func() {
		buf := make([]byte, 256<<10)
		var n int64
		for {
			m, err := r.Read(buf)
			n += int64(m)
			if err != nil {
				done <- n
				return
			}
		}
	}()
	return done
}

// BenchmarkSchedule queues one 64-byte message a call on a connection
// whose peer reads everything, the client side of the stream benchmark.
func BenchmarkSchedule(b *testing.B) {
	a, peer := socketPair(b)
	c := NewConn(a, 0)
	c.SetQueue(DefaultQueueBytes, OverflowBlock)
	read := drainAll(peer)
	p := bytes.Repeat([]byte{'m'}, streamSize)
	b.SetBytes(HeaderSize + streamSize)
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Schedule(p); err != nil {
			b.Fatal(err)
		}
	}
	if err := c.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	c.Close()
	if n := <-read; n != int64(b.N)*(HeaderSize+streamSize) {
		b.Fatalf("the peer read %d bytes, want %d", n, int64(b.N)*(HeaderSize+streamSize))
	}
}

// BenchmarkWait hands out 64-byte messages that a peer streams to a
// loop's connection, with lent payloads (as serve does in stream mode)
// and with given ones, the service side of the stream benchmark.
func BenchmarkWait(b *testing.B) {
	for _, borrow := range []bool{true, false} {
		name := "given"
		if borrow {
			name = "borrowed"
		}
		b.Run(name, func(b *testing.B) { benchmarkWait(b, borrow) })
	}
}

func benchmarkWait(b *testing.B, borrow bool) {
	a, peer := socketPair(b)
	l := NewLoop(Options{RunDir: runDir(b), BorrowPayloads: borrow})
	defer l.Close()
	l.Add(NewConn(a, 0))
	chunk := streamFrames(1000)
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := peer.Write(chunk); err != nil {
				return
			}
		}
	}()
	defer close(stop)
	ctx := context.Background()
	b.SetBytes(HeaderSize + streamSize)
	b.ReportAllocs()
	for b.Loop() {
		for {
			ev, err := l.Wait(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if ev.Type == EventMessage {
				break
			}
		}
	}
}

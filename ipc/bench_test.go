package ipc

// The benchmarks compare the engine with plain Go sockets in the same run,
// and report the ratio the product promises (see bench/README.md):
//
//	BenchmarkRoundTrip: a small request and its reply between two
//	processes; engine (Conn.Request against a Loop.Wait + Conn.Write echo
//	service) over raw net.UnixConn ping-pong. Bar: ratio <= 1.3.
//
//	BenchmarkStream: one-way 64-byte messages from one process to
//	another; engine (Conn.ScheduleBatch with OverflowBlock, the service
//	counting EventMessage from Wait with BorrowPayloads, as a counter
//	that keeps no payload would) as a share of raw batched streaming (big
//	writes of frames, big reads counted frame by frame). Bar: share >=
//	50 %. A client calling Conn.Schedule once a message is measured too.
//
// Each peer is this test binary run again as TestHelperProcess.

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// roundTripSize is the payload of a round trip: a small message.
const roundTripSize = 32

// streamSize is the payload of a streamed message.
const streamSize = 64

// ready reads the peer's first line, which says it is listening.
func ready(b testing.TB, out *bufio.Reader) {
	b.Helper()
	line, err := out.ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		b.Fatalf("peer process: %q, %v", line, err)
	}
}

// readCount reads a count the peer prints.
func readCount(b testing.TB, out *bufio.Reader) int {
	b.Helper()
	line, err := out.ReadString('\n')
	if err != nil {
		b.Fatalf("peer process: %v", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		b.Fatalf("peer process said %q", line)
	}
	return n
}

// rawListen listens at path for the raw peers, removing the socket when
// the process ends.
func rawListen(path string) (net.Listener, error) {
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	fmt.Println("ready")
	return ln, nil
}

// helperRawEcho answers each frame of each connection with the same frame,
// with plain reads and writes.
func helperRawEcho(path string) error {
	ln, err := rawListen(path)
	if err != nil {
		return err
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			buf := make([]byte, HeaderSize+roundTripSize)
			for {
				if _, err := io.ReadFull(c, buf); err != nil {
					return
				}
				if _, err := c.Write(buf); err != nil {
					return
				}
			}
		}()
	}
}

// helperEcho is an engine service that answers each message with Write.
func helperEcho(dir, name string) error {
	l := NewLoop(Options{RunDir: dir})
	defer l.Close()
	if _, err := l.Listen(name, ServiceOptions{}); err != nil {
		return err
	}
	fmt.Println("ready")
	for {
		ev, err := l.Wait(context.Background())
		if err != nil {
			return err
		}
		if ev.Type == EventMessage {
			ev.Conn.Write(ev.Payload)
		}
	}
}

// helperRawCount counts the frames of each connection with big reads and
// prints the count when the connection ends.
func helperRawCount(path string) error {
	ln, err := rawListen(path)
	if err != nil {
		return err
	}
	buf := make([]byte, 256<<10)
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		n, err := countFrames(c, buf)
		c.Close()
		if err != nil {
			return err
		}
		fmt.Println(n)
	}
}

// countFrames counts the frames read from r until its end, skipping
// payloads without copying them.
func countFrames(r io.Reader, buf []byte) (int, error) {
	count, have, skip := 0, 0, 0 // have: header bytes kept; skip: payload left
	for {
		m, err := r.Read(buf[have:])
		if m == 0 && err != nil {
			if err == io.EOF {
				return count, nil
			}
			return count, err
		}
		p := buf[:have+m]
		if skip >= len(p) {
			skip -= len(p)
			have = 0
			continue
		}
		p = p[skip:]
		skip = 0
		for len(p) >= HeaderSize {
			size := int(binary.BigEndian.Uint32(p))
			count++
			if HeaderSize+size > len(p) {
				skip = HeaderSize + size - len(p)
				p = nil
				break
			}
			p = p[HeaderSize+size:]
		}
		have = copy(buf, p)
	}
}

// helperCount is an engine service that counts the messages Wait hands
// out and prints the count at each disconnection.
func helperCount(dir, name string) error {
	l := NewLoop(Options{RunDir: dir, BorrowPayloads: true})
	defer l.Close()
	if _, err := l.Listen(name, ServiceOptions{}); err != nil {
		return err
	}
	fmt.Println("ready")
	n := 0
	for {
		ev, err := l.Wait(context.Background())
		if err != nil {
			return err
		}
		switch ev.Type {
		case EventMessage:
			n++
		case EventDisconnection:
			fmt.Println(n)
			n = 0
		}
	}
}

// peers is a raw peer and an engine peer, each a process of its own.
type peers struct {
	rawOut *bufio.Reader // the peers' reports
	engOut *bufio.Reader
	dir    string
}

// startPeers starts a raw peer (rawMode) and an engine service (engMode).
func startPeers(b *testing.B, rawMode, engMode string) *peers {
	dir := runDir(b)
	rawPath := filepath.Join(dir, "raw")
	_, _, rawOut := helperProcess(b, rawMode, rawPath)
	ready(b, rawOut)
	_, _, engOut := helperProcess(b, engMode, dir, "eng")
	ready(b, engOut)
	return &peers{rawOut: rawOut, engOut: engOut, dir: dir}
}

func (p *peers) dialEngine(b *testing.B) *Conn {
	c, err := Dial(context.Background(), "eng", DialOptions{RunDir: p.dir})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

// BenchmarkRoundTrip measures raw and engine round trips in turns, in
// rounds, so that both see the same machine, and reports both and their
// ratio. ns/op is the engine's.
func BenchmarkRoundTrip(b *testing.B) {
	p := startPeers(b, "rawecho", "echo")
	rc, err := net.Dial("unix", filepath.Join(p.dir, "raw"))
	if err != nil {
		b.Fatal(err)
	}
	defer rc.Close()
	engine := p.dialEngine(b)
	frame := AppendFrame(nil, make([]byte, roundTripSize))
	reply := make([]byte, len(frame))
	payload := frame[HeaderSize:]
	ctx := context.Background()
	var raw, eng time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(b.N-done, 2000)
		start := time.Now()
		for range n {
			if _, err := rc.Write(frame); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(rc, reply); err != nil {
				b.Fatal(err)
			}
		}
		mid := time.Now()
		for range n {
			if _, err := engine.Request(ctx, payload); err != nil {
				b.Fatal(err)
			}
		}
		raw += mid.Sub(start)
		eng += time.Since(mid)
		done += n
	}
	b.StopTimer()
	rawNs := float64(raw.Nanoseconds()) / float64(b.N)
	engNs := float64(eng.Nanoseconds()) / float64(b.N)
	b.ReportMetric(engNs, "ns/op")
	b.ReportMetric(rawNs, "raw-ns/op")
	b.ReportMetric(engNs/rawNs, "engine/raw")
}

// BenchmarkStream measures one-way streams of b.N messages of 64 bytes,
// raw and engine in turns, and reports both rates and the engine's share
// of the raw rate. The engine's client queues the messages with
// ScheduleBatch, 1024 at a time, as the raw client writes 64 KiB of frames
// at a time; the share of a client that calls Schedule once a message is
// reported too (schedule%raw). ns/op is the engine's time per message.
func BenchmarkStream(b *testing.B) {
	p := startPeers(b, "rawcount", "count")
	frame := AppendFrame(nil, make([]byte, streamSize))
	var chunk []byte // 64 KiB of frames, written at once
	for len(chunk)+len(frame) <= 64<<10 {
		chunk = append(chunk, frame...)
	}
	perChunk := len(chunk) / len(frame)
	batch := make([][]byte, 1024)
	for i := range batch {
		batch[i] = frame[HeaderSize:]
	}
	// engine streams n messages on a new connection, in batches or one by
	// one, and returns how long the service took to count them.
	engine := func(n int, batched bool) time.Duration {
		start := time.Now()
		c := p.dialEngine(b)
		c.SetQueue(DefaultQueueBytes, OverflowBlock) // a client paces itself
		for left := n; left > 0; {
			if batched {
				m, err := c.ScheduleBatch(batch[:min(left, len(batch))])
				if err != nil {
					b.Fatal(err)
				}
				left -= m
				continue
			}
			if err := c.Schedule(batch[0]); err != nil {
				b.Fatal(err)
			}
			left--
		}
		if err := c.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		c.Close()
		if got := readCount(b, p.engOut); got != n {
			b.Fatalf("engine peer counted %d of %d", got, n)
		}
		return time.Since(start)
	}
	var raw, eng, each time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(b.N-done, 1<<20)
		start := time.Now()
		rc, err := net.Dial("unix", filepath.Join(p.dir, "raw"))
		if err != nil {
			b.Fatal(err)
		}
		for left := n; left > 0; left -= perChunk {
			m := min(left, perChunk)
			if _, err := rc.Write(chunk[:m*len(frame)]); err != nil {
				b.Fatal(err)
			}
		}
		rc.Close()
		if got := readCount(b, p.rawOut); got != n {
			b.Fatalf("raw peer counted %d of %d", got, n)
		}
		raw += time.Since(start)
		eng += engine(n, true)
		each += engine(n, false)
		done += n
	}
	b.StopTimer()
	rawRate := float64(b.N) / raw.Seconds()
	engRate := float64(b.N) / eng.Seconds()
	eachRate := float64(b.N) / each.Seconds()
	b.ReportMetric(float64(eng.Nanoseconds())/float64(b.N), "ns/op")
	b.ReportMetric(rawRate, "raw-msg/s")
	b.ReportMetric(engRate, "engine-msg/s")
	b.ReportMetric(100*engRate/rawRate, "engine%raw")
	b.ReportMetric(eachRate, "schedule-msg/s")
	b.ReportMetric(100*eachRate/rawRate, "schedule%raw")
}

// TestEngineRatios prints the benchmark ratios against their bars when
// IPC_BENCH is set (bench/engine.sh sets it). It never fails on a
// timing: it reports.
func TestEngineRatios(t *testing.T) {
	if os.Getenv("IPC_BENCH") == "" {
		t.Skip("set IPC_BENCH=1 to measure (see bench/README.md)")
	}
	rt := testing.Benchmark(BenchmarkRoundTrip)
	st := testing.Benchmark(BenchmarkStream)
	if rt.N == 0 || st.N == 0 {
		t.Fatal("a benchmark failed; run go test -bench . ./ipc to see why")
	}
	ratio := rt.Extra["engine/raw"]
	share := st.Extra["engine%raw"]
	fmt.Printf("round trip, %d-byte message, two processes: raw %.0f ns, engine %.0f ns, ratio %.2f (bar <= 1.30) %s\n",
		roundTripSize, rt.Extra["raw-ns/op"], rt.Extra["ns/op"], ratio, verdict(ratio <= 1.3))
	fmt.Printf("one-way stream, %d-byte messages, two processes: raw %.0f msg/s, engine %.0f msg/s, share %.0f %% (bar >= 50 %%) %s\n",
		streamSize, st.Extra["raw-msg/s"], st.Extra["engine-msg/s"], share, verdict(share >= 50))
	fmt.Printf("one-way stream, one Schedule a message: engine %.0f msg/s, share %.0f %% of raw\n",
		st.Extra["schedule-msg/s"], st.Extra["schedule%raw"])
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

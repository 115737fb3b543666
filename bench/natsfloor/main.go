// Command natsfloor measures the floor of cross-bus fan-out through NATS:
// the least that carrying messages from a local client over a Unix socket
// to NATS, and from NATS over a Unix socket to another local client,
// costs, with nothing of ipcctl's bus (no envelopes, groups, presence,
// push-back or events). bench/nats.sh runs it beside the buses, on the
// same cluster, in the same run.
//
//	natsfloor out SOCKET URL SUBJECT [REPLY]
//	                                   accept one client on SOCKET, publish each frame it sends to SUBJECT,
//	                                   with the reply subject REPLY when given
//	natsfloor in SOCKET URL SUBJECT    subscribe to SUBJECT, write each message as a frame to one client of SOCKET
//	natsfloor run OUT IN MSGS SIZE     the client: connect to IN, then OUT; send MSGS frames of SIZE bytes to OUT
//	                                   as fast as it takes them, and print the rate at which they come from IN
//
// A frame is the engine's: a 4-byte big-endian length, then the payload.
// The relays batch as a bus does: "in" appends the frames of the
// messages its subscription hands it to a buffer that a goroutine of its
// own writes out; "out" reads 64 KiB at a time and publishes each frame.
// run prints "rate=N lost=N": the messages per second from the first to
// the last that came (as busbench and nats bench count), and how many did
// not come within 5 seconds of the last.
//
// REPLY measures what a reply subject costs NATS's servers and clients:
// a bus names the sender of a message to a group by one
// (docs/protocol.md, "Buses over NATS"); nothing subscribes to it.
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

func main() {
	var err error
	switch {
	case (len(os.Args) == 5 || len(os.Args) == 6) && os.Args[1] == "out":
		err = out(os.Args[2], os.Args[3], os.Args[4], reply(os.Args[5:]))
	case len(os.Args) == 5 && os.Args[1] == "in":
		err = in(os.Args[2], os.Args[3], os.Args[4])
	case len(os.Args) == 6 && os.Args[1] == "run":
		err = run(os.Args[2], os.Args[3], os.Args[4], os.Args[5])
	default:
		fmt.Fprintln(os.Stderr, "usage: natsfloor out SOCKET URL SUBJECT [REPLY] | natsfloor in SOCKET URL SUBJECT | natsfloor run OUT IN MSGS SIZE")
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "natsfloor:", err)
		os.Exit(1)
	}
}

// reply is out's optional REPLY, "" when not given.
func reply(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}

// accept listens on path and returns its first connection.
func accept(path string) (net.Conn, error) {
	os.Remove(path)
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	return l.Accept()
}

// out publishes to subject each frame of the one client of path, with
// the reply subject reply unless "", until it hangs up.
func out(path, url, subject, reply string) error {
	nc, err := nats.Connect(url)
	if err != nil {
		return err
	}
	defer nc.Close()
	c, err := accept(path)
	if err != nil {
		return err
	}
	r := bufio.NewReaderSize(c, 64<<10)
	var hdr [4]byte
	var body []byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nc.Flush()
			}
			return err
		}
		n := int(binary.BigEndian.Uint32(hdr[:]))
		if cap(body) < n {
			body = make([]byte, n)
		}
		body = body[:n]
		if _, err := io.ReadFull(r, body); err != nil {
			return err
		}
		if err := publish(nc, subject, reply, body); err != nil {
			return err
		}
	}
}

// publish publishes body to subject, with the reply subject reply unless
// "" (which PublishRequest refuses).
func publish(nc *nats.Conn, subject, reply string, body []byte) error {
	if reply == "" {
		return nc.Publish(subject, body)
	}
	return nc.PublishRequest(subject, reply, body)
}

// in writes each message of subject as a frame to the one client of
// path, until it hangs up.
func in(path, url, subject string) error {
	nc, err := nats.Connect(url)
	if err != nil {
		return err
	}
	defer nc.Close()
	var (
		mu   sync.Mutex
		more = sync.NewCond(&mu)
		buf  []byte
	)
	sub, err := nc.Subscribe(subject, func(m *nats.Msg) {
		mu.Lock()
		if len(buf) == 0 {
			more.Signal()
		}
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(m.Data)))
		buf = append(buf, m.Data...)
		mu.Unlock()
	})
	if err != nil {
		return err
	}
	sub.SetPendingLimits(-1, -1)
	if err := nc.Flush(); err != nil {
		return err
	}
	c, err := accept(path)
	if err != nil {
		return err
	}
	go func() { io.Copy(io.Discard, c); c.Close(); os.Exit(0) }() // ends with its client
	var spare []byte
	for {
		mu.Lock()
		for len(buf) == 0 {
			more.Wait()
		}
		w := buf
		buf = spare[:0]
		mu.Unlock()
		if _, err := c.Write(w); err != nil {
			return err
		}
		spare = w
	}
}

// run sends msgs frames of size bytes to the relay out and counts them
// as they come from the relay in. Before, it sends probes until one comes
// back, so that NATS carries the subscription's interest to the
// publisher's server.
func run(outPath, inPath, msgs, size string) error {
	total, err := strconv.Atoi(msgs)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(size)
	if err != nil || n < 1 {
		return fmt.Errorf("bad size %q", size)
	}
	ic, err := net.Dial("unix", inPath)
	if err != nil {
		return err
	}
	oc, err := net.Dial("unix", outPath)
	if err != nil {
		return err
	}
	probe := binary.BigEndian.AppendUint32(nil, 1)
	probe = append(probe, 'p')
	frame := binary.BigEndian.AppendUint32(nil, uint32(n))
	frame = append(frame, make([]byte, n)...)
	frame[4] = 'm'

	got := make(chan time.Time, 1)
	var count int
	var first, last time.Time
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := bufio.NewReaderSize(ic, 64<<10)
		var hdr [4]byte
		body := make([]byte, 1<<20)
		probed := false
		for count < total {
			ic.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.ReadFull(r, hdr[:]); err != nil {
				return
			}
			b := body[:binary.BigEndian.Uint32(hdr[:])]
			if _, err := io.ReadFull(r, b); err != nil {
				return
			}
			now := time.Now()
			if b[0] == 'p' {
				if !probed {
					probed = true
					got <- now
				}
				continue
			}
			if count == 0 {
				first = now
			}
			last = now
			count++
		}
	}()
	for probed := false; !probed; {
		if _, err := oc.Write(probe); err != nil {
			return err
		}
		select {
		case <-got:
			probed = true
		case <-time.After(20 * time.Millisecond):
		}
	}
	w := bufio.NewWriterSize(oc, 64<<10)
	for range total {
		if _, err := w.Write(frame); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	<-done
	oc.Close()
	ic.Close()
	rate := 0.0
	if count > 1 {
		rate = float64(count-1) / last.Sub(first).Seconds()
	}
	fmt.Printf("rate=%.0f lost=%d\n", rate, total-count)
	return nil
}

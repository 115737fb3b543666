package ipc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestDialNoService(t *testing.T) {
	_, err := Dial(context.Background(), "none", DialOptions{RunDir: runDir(t)})
	if !errors.Is(err, ErrNoService) {
		t.Fatalf("got %v, want ErrNoService", err)
	}
	if _, err := Dial(context.Background(), "a/b", DialOptions{RunDir: runDir(t)}); err == nil {
		t.Fatal("a bad name was dialled")
	}
}

func TestDialWaitTimesOut(t *testing.T) {
	dir := runDir(t)
	_, err := Dial(context.Background(), "none", DialOptions{RunDir: dir, Wait: 30 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
}

func TestDialWaitFindsLaterService(t *testing.T) {
	dir := runDir(t)
	dialled := make(chan error, 1)
	conns := make(chan *Conn, 1)
	go func() {
		c, err := Dial(context.Background(), "late", DialOptions{RunDir: dir, Wait: patience})
		conns <- c
		dialled <- err
	}()
	// The service starts once the client is known to be waiting: it has
	// looked for the socket at least once (no sleep needed for that, the
	// service may as well start at once; both orders must work).
	l := newLoop(t, Options{RunDir: dir})
	serve(t, l, "late", ServiceOptions{})
	if err := <-dialled; err != nil {
		t.Fatal(err)
	}
	c := <-conns
	defer c.Close()
	expect(t, l, EventConnection)
}

// TestDialWaitFindsServiceStartedAfterAFailure makes sure the client
// really retried: the service appears only after the client failed once.
func TestDialWaitFindsServiceStartedAfterAFailure(t *testing.T) {
	dir := runDir(t)
	path := filepath.Join(dir, "late")
	// A stale socket first: the client's first tries are refused.
	l0 := newLoop(t, Options{RunDir: dir})
	s0 := serve(t, l0, "late", ServiceOptions{})
	s0.ln.Close() // stop accepting, leave the file: a stale socket
	if _, err := Dial(context.Background(), "late", DialOptions{RunDir: dir}); !errors.Is(err, ErrRefused) {
		t.Fatalf("stale socket: %v, want ErrRefused", err)
	}
	dialled := make(chan error, 1)
	go func() {
		c, err := Dial(context.Background(), "late", DialOptions{RunDir: dir, Wait: patience})
		if c != nil {
			c.Close()
		}
		dialled <- err
	}()
	s0.Close()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("socket not removed")
	}
	l := newLoop(t, Options{RunDir: dir})
	serve(t, l, "late", ServiceOptions{})
	if err := <-dialled; err != nil {
		t.Fatal(err)
	}
}

func TestDialCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Dial(ctx, "none", DialOptions{RunDir: runDir(t), Wait: patience})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestRequestTimeout(t *testing.T) {
	l := newLoop(t, Options{})
	serve(t, l, "mute", ServiceOptions{})
	c := dial(t, l, "mute")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := c.Request(ctx, []byte("anyone?"))
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
	// The connection still works after a timed-out read.
	expect(t, l, EventConnection)
	ev := expect(t, l, EventMessage)
	ev.Conn.Write([]byte("late answer"))
	if p := request(t, c, []byte("again")); string(p) != "late answer" {
		t.Fatalf("got %q", p)
	}
}

func TestRequestCancelled(t *testing.T) {
	l := newLoop(t, Options{})
	serve(t, l, "mute", ServiceOptions{})
	c := dial(t, l, "mute")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer cancel()
		for {
			ev, err := l.Wait(context.Background())
			if err != nil || ev.Type == EventMessage {
				return
			}
		}
	}()
	if _, err := c.Request(ctx, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestRequestEcho(t *testing.T) {
	l := newLoop(t, Options{})
	serve(t, l, "echo", ServiceOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer echo(ctx, l)()
	defer cancel()
	c := dial(t, l, "echo")
	for i := range 100 {
		p := []byte(strconv.Itoa(i))
		if r := request(t, c, p); string(r) != string(p) {
			t.Fatalf("got %q, want %q", r, p)
		}
	}
	if r := request(t, c, nil); len(r) != 0 {
		t.Fatalf("empty request: got %q", r)
	}
}

func TestPrivateData(t *testing.T) {
	l := newLoop(t, Options{})
	serve(t, l, "svc", ServiceOptions{})
	a := dial(t, l, "svc")
	ca := expect(t, l, EventConnection).Conn
	b := dial(t, l, "svc")
	cb := expect(t, l, EventConnection).Conn
	if ca.Data() != nil {
		t.Fatal("fresh connection has data")
	}
	type session struct{ n int }
	ca.SetData(&session{1})
	cb.SetData("b's")
	a.Write([]byte("x"))
	ev := expect(t, l, EventMessage)
	if s, ok := ev.Conn.Data().(*session); !ok || s.n != 1 {
		t.Fatalf("a's data: %v", ev.Conn.Data())
	}
	b.Write([]byte("y"))
	if ev := expect(t, l, EventMessage); ev.Conn.Data() != "b's" {
		t.Fatalf("b's data: %v", ev.Conn.Data())
	}
	cb.SetData(nil)
	if cb.Data() != nil {
		t.Fatal("data not cleared")
	}
	b.Close()
	if ev := expect(t, l, EventDisconnection); ev.Conn.Data() != nil {
		t.Fatal("data of the gone connection")
	}
}

func TestScheduleSent(t *testing.T) {
	l := newLoop(t, Options{})
	serve(t, l, "svc", ServiceOptions{})
	c := dial(t, l, "svc")
	sc := expect(t, l, EventConnection).Conn
	for i := range 50 {
		if err := sc.Schedule(fmt.Appendf(nil, "s%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 50 {
		ev := expect(t, l, EventSent)
		if ev.Conn != sc || string(ev.Payload) != fmt.Sprintf("s%d", i) {
			t.Fatalf("sent event %d: %q on %d", i, ev.Payload, ev.Conn.ID())
		}
	}
	c.NetConn().SetReadDeadline(timeout())
	for i := range 50 {
		p, err := c.ReadMessage()
		if err != nil || string(p) != fmt.Sprintf("s%d", i) {
			t.Fatalf("message %d: %q, %v", i, p, err)
		}
	}
}

// TestWriteScheduleOrder mixes Write and Schedule: the peer reads them in
// the order they were made.
func TestWriteScheduleOrder(t *testing.T) {
	l := newLoop(t, Options{})
	serve(t, l, "svc", ServiceOptions{})
	c := dial(t, l, "svc")
	sc := expect(t, l, EventConnection).Conn
	const n = 3000
	done := make(chan error, 1)
	go func() {
		c.NetConn().SetReadDeadline(timeout())
		for i := range n {
			p, err := c.ReadMessage()
			if err != nil {
				done <- err
				return
			}
			if string(p) != strconv.Itoa(i) {
				done <- fmt.Errorf("message %d is %q", i, p)
				return
			}
		}
		done <- nil
	}()
	scheduled := 0
	for i := range n {
		p := []byte(strconv.Itoa(i))
		var err error
		if i%7 == 3 {
			err = sc.Write(p)
		} else {
			err = sc.Schedule(p)
			scheduled++
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	last := -1
	for range scheduled {
		ev := expect(t, l, EventSent)
		i, _ := strconv.Atoi(string(ev.Payload))
		if i <= last {
			t.Fatalf("sent event for %d after %d", i, last)
		}
		last = i
	}
	flushed(t, sc)
}

// fillEvents fills the loop's posted events with the sent events of a
// new client's messages, so that anything posting an event blocks until
// Wait is called.
func fillEvents(t *testing.T, l *Loop) {
	t.Helper()
	dial(t, l, "svc")
	sc := expect(t, l, EventConnection).Conn
	sc.SetQueue(1<<20, OverflowClose)
	for range postedMax + 64 {
		if err := sc.Schedule([]byte("fill")); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(patience); l.npost.Load() < postedMax; {
		if time.Now().After(deadline) {
			t.Fatal("the posted events did not fill")
		}
		time.Sleep(time.Millisecond) // polling a condition, not timing
	}
}

// notBlocked fails the test when f does not return in time: a call made
// on the goroutine that calls Wait must not wait for Wait.
func notBlocked(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(patience):
		t.Fatalf("%s blocked while the event queue was full: the loop deadlocks", what)
	}
}

func TestQueueFullClosesNonReader(t *testing.T) {
	l := newLoop(t, Options{QueueBytes: 64 << 10})
	serve(t, l, "svc", ServiceOptions{})
	stalled := dial(t, l, "svc")
	_ = stalled // never reads
	sc := expect(t, l, EventConnection).Conn
	msg := make([]byte, 1024)
	var err error
	accepted := 0
	for accepted < 1<<16 {
		if err = sc.Schedule(msg); err != nil {
			break
		}
		accepted++
		if accepted%64 == 0 {
			// Sent events are handed out meanwhile, as a service would.
			drainSent(l)
		}
	}
	if !errors.Is(err, ErrQueueFull) {
		t.Fatalf("after %d messages: got %v, want ErrQueueFull", accepted, err)
	}
	// What was accepted is bounded by the queue plus the socket's buffers.
	if accepted*len(msg) > 16<<20 {
		t.Fatalf("%d KiB accepted for a peer that does not read", accepted)
	}
	ev := expect(t, l, EventError)
	if ev.Conn != sc || !errors.Is(ev.Err, ErrQueueFull) {
		t.Fatalf("error event: %v", ev.Err)
	}
	if ev := expect(t, l, EventDisconnection); ev.Conn != sc {
		t.Fatalf("disconnection of %d", ev.Conn.ID())
	}
	if err := sc.Schedule(msg); !errors.Is(err, ErrClosed) {
		t.Fatalf("Schedule after the close: %v, want ErrClosed", err)
	}
}

// drainSent hands out the events that are already waiting.
func drainSent(l *Loop) {
	for l.Pending() > 0 {
		l.Wait(context.Background())
	}
}

func TestQueueFullDrop(t *testing.T) {
	l := newLoop(t, Options{QueueBytes: 4096, Overflow: OverflowDrop})
	serve(t, l, "svc", ServiceOptions{})
	dial(t, l, "svc")
	sc := expect(t, l, EventConnection).Conn
	var err error
	for range 1 << 16 {
		if err = sc.Schedule(make([]byte, 1024)); err != nil {
			break
		}
		drainSent(l)
	}
	if !errors.Is(err, ErrQueueFull) {
		t.Fatalf("got %v, want ErrQueueFull", err)
	}
	if l.Conn(sc.ID()) != sc {
		t.Fatal("OverflowDrop closed the connection")
	}
}

// TestScheduleOverflowWhileEventsWait: a Schedule that overflows, called
// where Wait is called while the event queue is full, must not block.
func TestScheduleOverflowWhileEventsWait(t *testing.T) {
	l := newLoop(t, Options{QueueBytes: 4096})
	serve(t, l, "svc", ServiceOptions{})
	dial(t, l, "svc") // never reads
	sc := expect(t, l, EventConnection).Conn
	fillEvents(t, l)
	var err error
	notBlocked(t, "Schedule", func() {
		for range 1 << 16 {
			if err = sc.Schedule(make([]byte, 1024)); err != nil {
				return
			}
		}
	})
	if !errors.Is(err, ErrQueueFull) {
		t.Fatalf("got %v, want ErrQueueFull", err)
	}
	for {
		ev := next(t, l)
		if ev.Type == EventError && ev.Conn == sc {
			if !errors.Is(ev.Err, ErrQueueFull) {
				t.Fatal(ev.Err)
			}
			break
		}
	}
}

// TestWriteWhileEventsWait: Write, called where Wait is called while the
// event queue is full, must not wait for sent events to be handed out.
func TestWriteWhileEventsWait(t *testing.T) {
	l := newLoop(t, Options{})
	serve(t, l, "svc", ServiceOptions{})
	c := dial(t, l, "svc")
	sc := expect(t, l, EventConnection).Conn
	fillEvents(t, l)
	notBlocked(t, "Schedule then Write", func() {
		for i := range 10 {
			sc.Schedule(fmt.Appendf(nil, "s%d", i))
		}
		sc.Write([]byte("w"))
		sc.Schedule([]byte("s10"))
		sc.Write([]byte("w"))
	})
	c.NetConn().SetReadDeadline(timeout())
	var got []string
	for range 13 {
		p, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(p))
	}
	want := "[s0 s1 s2 s3 s4 s5 s6 s7 s8 s9 w s10 w]"
	if fmt.Sprint(got) != want {
		t.Fatalf("got %v, want %v", got, want)
	}
	sent := 0
	for sent < 11 {
		if ev := next(t, l); ev.Type == EventSent && ev.Conn == sc {
			if want := fmt.Sprintf("s%d", sent); string(ev.Payload) != want {
				t.Fatalf("sent %q, want %q", ev.Payload, want)
			}
			sent++
		}
	}
}

func TestConnClosed(t *testing.T) {
	a, _ := socketPair(t)
	c := NewConn(a, 0)
	c.Close()
	if err := c.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write: %v", err)
	}
	if err := c.Schedule([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Schedule: %v", err)
	}
	if _, err := c.ReadMessage(); !errors.Is(err, ErrClosed) {
		t.Fatalf("ReadMessage: %v", err)
	}
	select {
	case <-c.Done():
	default:
		t.Fatal("Done not closed")
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestConnHalfClose(t *testing.T) {
	a, b := socketPair(t)
	ca, cb := NewConn(a, 0), NewConn(b, 0)
	ca.Schedule([]byte("last words"))
	if err := ca.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if p, err := cb.ReadMessage(); err != nil || string(p) != "last words" {
		t.Fatalf("got %q, %v", p, err)
	}
	if _, err := cb.ReadMessage(); err != io.EOF {
		t.Fatalf("after the half-close: %v, want io.EOF", err)
	}
	// Replies still arrive at the half-closed end.
	cb.Write([]byte("reply"))
	if p, err := ca.ReadMessage(); err != nil || string(p) != "reply" {
		t.Fatalf("got %q, %v", p, err)
	}
}

func TestOverflowBlock(t *testing.T) {
	a, b := socketPair(t)
	ca, cb := NewConn(a, 0), NewConn(b, 0)
	ca.SetQueue(1024, OverflowBlock)
	const n = 2000
	go func() {
		for i := range n {
			if err := ca.Schedule(make([]byte, 512)); err != nil {
				t.Errorf("Schedule %d: %v", i, err)
				return
			}
		}
	}()
	b.SetReadDeadline(timeout())
	for i := range n {
		if _, err := cb.ReadMessage(); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
}

// TestScheduleBlockStream: a client that accepts to wait (OverflowBlock)
// writes full chunks itself, as far as the socket takes them; a slow
// reader still gets every message, in order.
func TestScheduleBlockStream(t *testing.T) {
	const n = 100000
	payload := func(i int) []byte { return fmt.Appendf(nil, "message %06d", i) }
	slowStream(t, n, payload, func(c *Conn) {
		for i := range n {
			if err := c.Schedule(payload(i)); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// batchPayload is message i of the batch tests: sizes from 0 to over a
// queue chunk, each naming its number.
func batchPayload(i int) []byte {
	size := []int{0, 1, 60, 1000, queueChunk + 10}[i%5]
	p := fmt.Appendf(nil, "%d", i)
	for len(p) < size {
		p = append(p, '.')
	}
	if size == 0 {
		return nil
	}
	return p
}

// TestScheduleBatchStream: batches larger than the queue, with frames of
// every size, reach a slow reader whole and in order; the client waits
// for room in the middle of a batch (OverflowBlock).
func TestScheduleBatchStream(t *testing.T) {
	const n, per = 2000, 300
	slowStream(t, n, batchPayload, func(c *Conn) {
		for i := 0; i < n; i += per {
			var batch [][]byte
			for j := i; j < min(i+per, n); j++ {
				batch = append(batch, batchPayload(j))
			}
			if m, err := c.ScheduleBatch(batch); err != nil || m != len(batch) {
				t.Fatalf("ScheduleBatch queued %d of %d: %v", m, len(batch), err)
			}
		}
	})
}

// slowStream has send queue n messages on a connection whose queue holds
// 256 KiB under OverflowBlock, and checks that a slow reader gets
// payload(i) as message i, for each i.
func slowStream(t *testing.T, n int, payload func(int) []byte, send func(*Conn)) {
	a, b := socketPair(t)
	c := NewConn(a, 0)
	c.SetQueue(256<<10, OverflowBlock)
	done := make(chan error, 1)
	go func() {
		r := NewFrameReader(b, 0)
		for i := range n {
			p, err := r.ReadFrame()
			if err != nil {
				done <- err
				return
			}
			if want := payload(i); !bytes.Equal(p, want) {
				done <- fmt.Errorf("message %d: got %d bytes, want %d", i, len(p), len(want))
				return
			}
			if i%(n/4) == 0 {
				time.Sleep(5 * time.Millisecond) // a slow reader: the socket fills
			}
		}
		done <- nil
	}()
	send(c)
	flushed(t, c)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(patience):
		t.Fatal("the reader did not get every message")
	}
}

// TestScheduleBatchDrop: when the queue fills in the middle of a batch
// under OverflowDrop, ScheduleBatch says how many it queued, and exactly
// those reach the peer.
func TestScheduleBatchDrop(t *testing.T) {
	a, b := socketPair(t)
	c := NewConn(a, 0)
	c.SetQueue(64<<10, OverflowDrop)
	batch := make([][]byte, 16<<10) // 16 MiB of frames: more than socket and queue
	for i := range batch {
		batch[i] = fmt.Appendf(make([]byte, 0, 1024), "%d", i)[:1024]
	}
	m, err := c.ScheduleBatch(batch)
	if !errors.Is(err, ErrQueueFull) || m == 0 || m >= len(batch) {
		t.Fatalf("ScheduleBatch queued %d of %d: %v, want some and ErrQueueFull", m, len(batch), err)
	}
	if n, err := c.ScheduleBatch(nil); n != 0 || err != nil {
		t.Fatalf("an empty batch: %d, %v", n, err)
	}
	got := make(chan int, 1)
	go func() {
		r := NewFrameReader(b, 0)
		n := 0
		for {
			p, err := r.ReadFrame()
			if err != nil {
				got <- n
				return
			}
			if want := fmt.Sprint(n); !strings.HasPrefix(string(p), want) {
				t.Errorf("message %d starts %q", n, p[:8])
			}
			n++
		}
	}()
	flushed(t, c)
	c.Close()
	if n := <-got; n != m {
		t.Fatalf("the peer got %d messages, ScheduleBatch said %d", n, m)
	}
}

// TestScheduleBatchSent: a connection under a loop reports each message
// of a batch as sent, in order.
func TestScheduleBatchSent(t *testing.T) {
	l := newLoop(t, Options{})
	serve(t, l, "svc", ServiceOptions{})
	c := dial(t, l, "svc")
	sc := expect(t, l, EventConnection).Conn
	batch := [][]byte{[]byte("a"), nil, []byte("ccc")}
	if n, err := sc.ScheduleBatch(batch); n != 3 || err != nil {
		t.Fatalf("ScheduleBatch: %d, %v", n, err)
	}
	for i, want := range batch {
		if ev := expect(t, l, EventSent); string(ev.Payload) != string(want) {
			t.Fatalf("sent event %d: %q, want %q", i, ev.Payload, want)
		}
		c.NetConn().SetReadDeadline(timeout())
		if p, err := c.ReadMessage(); err != nil || string(p) != string(want) {
			t.Fatalf("message %d: %q, %v", i, p, err)
		}
	}
	c.Close()
	expect(t, l, EventDisconnection)
	if n, err := sc.ScheduleBatch(batch); n != 0 || !errors.Is(err, ErrClosed) {
		t.Fatalf("ScheduleBatch on a closed connection: %d, %v", n, err)
	}
}

// TestScheduleWritersShareASlowSocket: producers that Schedule under
// OverflowBlock, each filling chunks and writing them itself, and a
// caller of Write, share a connection whose reader is slow, so that the
// flusher waits for room again and again while the others write: every
// message arrives, each producer's in its order.
func TestScheduleWritersShareASlowSocket(t *testing.T) {
	a, b := socketPair(t)
	c := NewConn(a, 0)
	c.SetQueue(128<<10, OverflowBlock)
	const producers, n = 4, 20000
	var wg sync.WaitGroup
	for w := range producers + 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				p := fmt.Appendf(nil, "%d %d %s", w, i, bytes.Repeat([]byte{'.'}, i%200))
				var err error
				if w == producers && i%50 == 0 {
					err = c.Write(p)
				} else if w < producers {
					err = c.Schedule(p)
				}
				if err != nil {
					t.Errorf("writer %d, message %d: %v", w, i, err)
					return
				}
			}
		}()
	}
	next := make([]int, producers+1)
	want := producers*n + n/50
	r := NewFrameReader(b, 0)
	b.SetReadDeadline(timeout())
	for got := 0; got < want; got++ {
		p, err := r.ReadFrame()
		if err != nil {
			t.Fatalf("after %d of %d messages: %v", got, want, err)
		}
		var w, i int
		if _, err := fmt.Sscanf(string(p), "%d %d", &w, &i); err != nil {
			t.Fatalf("message %q: %v", p, err)
		}
		if i != next[w] {
			t.Fatalf("writer %d: message %d came after %d", w, i, next[w]-1)
		}
		next[w] = i + 1
		if w == producers {
			next[w] = i + 50
		}
		if got%5000 == 0 {
			time.Sleep(2 * time.Millisecond) // a slow reader: the socket fills
		}
	}
	wg.Wait()
}

// TestWriteBatch: the messages of a batch, of every size, follow what was
// scheduled before, whole and in order, once WriteBatch returns.
func TestWriteBatch(t *testing.T) {
	a, b := socketPair(t)
	c := NewConn(a, 0)
	const n = 40
	var batch [][]byte
	for i := range n {
		if i < 5 {
			if err := c.Schedule(batchPayload(i)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		batch = append(batch, batchPayload(i))
	}
	done := make(chan error, 1)
	go func() {
		r := NewFrameReader(b, 0)
		for i := range n {
			p, err := r.ReadFrame()
			if err == nil && !bytes.Equal(p, batchPayload(i)) {
				err = fmt.Errorf("message %d: got %d bytes, want %d", i, len(p), len(batchPayload(i)))
			}
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	if err := c.WriteBatch(batch); err != nil {
		t.Fatal(err)
	}
	if q := c.Queued(); q != 0 {
		t.Fatalf("%d bytes still queued after WriteBatch", q)
	}
	b.SetReadDeadline(timeout())
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// flushed waits, within patience, until c's queue is written out.
func flushed(t *testing.T, c *Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// Command busbench measures the fan-out of an ipcctl bus as nats bench
// measures a NATS server's: it connects -subs subscribers to group -group
// of the bus named by its argument, then one publisher that publishes
// -msgs messages of -size bytes to the group as fast as the bus takes
// them, and prints the deliveries per second, summed over the subscribers
// (each subscriber's count over the time between its first and its last
// message, as nats bench's aggregated figure), the deliveries over the
// whole run's time, and how many messages the bus dropped for them.
// bench/bus.sh runs it.
//
// With -sub-rundir and -pub-rundir the subscribers and the publisher are
// on two buses of that name joined over NATS (bench/nats.sh): the
// publisher waits until its bus's presence group tells of every remote
// subscription before it publishes, and a subscriber that gets nothing
// for -idle counts the rest as lost.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
	"github.com/ipcctl/ipcctl/ipc/bus"
)

// The run directories of the subscribers' and the publisher's buses, and
// how long a subscriber waits for a message before it gives up.
var (
	subDir, pubDir string
	idle           time.Duration
)

// result is what one subscriber saw.
type result struct {
	got, dropped, lost uint64
	first, last        time.Time
	err                error
}

func main() {
	subs := flag.Int("subs", 1, "number of subscribers")
	msgs := flag.Int("msgs", 100000, "number of messages to publish")
	size := flag.Int("size", 64, "payload size in bytes")
	group := flag.String("group", "bench", "the group")
	wait := flag.Duration("timeout", time.Minute, "give up after this long")
	flag.StringVar(&subDir, "sub-rundir", "", "the run directory of the subscribers' bus")
	flag.StringVar(&pubDir, "pub-rundir", "", "the run directory of the publisher's bus")
	flag.DurationVar(&idle, "idle", 0, "a subscriber that gets nothing for this long stops (0: never)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: busbench [-subs N] [-msgs N] [-size BYTES] BUS")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *group, *subs, *msgs, *size, *wait); err != nil {
		fmt.Fprintln(os.Stderr, "busbench:", err)
		os.Exit(1)
	}
}

func run(name, group string, subs, msgs, size int, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	pub, err := bus.Dial(ctx, pubDir, name, 0)
	if err != nil {
		return err
	}
	defer pub.Close()
	remote := subDir != pubDir
	if remote {
		if err := pub.Subscribe(ctx, bus.PresenceGroup); err != nil {
			return err
		}
	}
	clients := make([]*bus.Client, subs)
	for i := range clients {
		cl, err := bus.Dial(ctx, subDir, name, 0)
		if err != nil {
			return err
		}
		defer cl.Close()
		if err := cl.Subscribe(ctx, group); err != nil {
			return err
		}
		clients[i] = cl
	}
	results := make([]result, subs)
	var wg sync.WaitGroup
	for i, cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = subscribe(ctx, cl, uint64(msgs))
		}()
	}
	if remote {
		if err := awaitRemote(ctx, pub, group, subs); err != nil {
			return err
		}
	}
	start := time.Now()
	if err := publish(ctx, pub, group, msgs, size); err != nil {
		return err
	}
	wg.Wait()
	wall := time.Since(start)
	return report(results, wall)
}

// subscribe counts the messages of cl until msgs arrived or were dropped.
func subscribe(ctx context.Context, cl *bus.Client, msgs uint64) result {
	var r result
	ctx, seen, stop := watchIdle(ctx)
	defer stop()
	for r.got+r.dropped < msgs {
		h, _, err := cl.Recv(ctx)
		if err != nil && idle > 0 && r.got > 0 && context.Cause(ctx) == errIdle {
			r.lost = msgs - r.got - r.dropped
			return r
		}
		if err != nil {
			r.err = err
			return r
		}
		seen.Add(1)
		switch h.Op {
		case "msg":
			r.last = time.Now()
			if r.got == 0 {
				r.first = r.last
			}
			r.got++
		case "dropped":
			r.dropped += h.Count
		}
	}
	return r
}

// errIdle ends a subscriber that got nothing for -idle.
var errIdle = errors.New("nothing received for -idle")

// watchIdle returns ctx, cancelled with errIdle once the count it returns
// has not moved for idle (never when idle is 0), and stop, which ends the
// watch: one timer for the whole run, not one a message, which would cost
// the subscriber more than reading the message does.
func watchIdle(ctx context.Context) (context.Context, *atomic.Uint64, func()) {
	var seen atomic.Uint64
	if idle <= 0 {
		return ctx, &seen, func() {}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	go func() {
		t := time.NewTicker(idle)
		defer t.Stop()
		last := seen.Load()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			now := seen.Load()
			if now == last {
				cancel(errIdle)
				return
			}
			last = now
		}
	}()
	return ctx, &seen, func() { cancel(nil) }
}

// awaitRemote waits until the presence group told cl of subs
// subscriptions to group on other buses, then leaves the presence group.
func awaitRemote(ctx context.Context, cl *bus.Client, group string, subs int) error {
	for n := 0; n < subs; {
		h, _, err := cl.Recv(ctx)
		if err != nil {
			return fmt.Errorf("waiting for %d remote subscribers (%d seen): %w", subs, n, err)
		}
		if h.Op == "presence" && h.Event == "subscribe" && h.Group == group && bus.Remote(h.Addr) {
			n++
		}
	}
	return cl.Unsubscribe(ctx, bus.PresenceGroup)
}

// publish sends msgs messages to group from the publisher's connection,
// queued in batches that block while the bus is busy.
func publish(ctx context.Context, cl *bus.Client, group string, msgs, size int) error {
	conn := cl.Conn()
	conn.SetQueue(ipc.DefaultQueueBytes, ipc.OverflowBlock)
	frame, err := bus.Encode(&bus.Header{Op: "msg", Group: group}, make([]byte, size))
	if err != nil {
		return err
	}
	batch := make([][]byte, 256)
	for i := range batch {
		batch[i] = frame
	}
	for left := msgs; left > 0; left -= len(batch) {
		if left < len(batch) {
			batch = batch[:left]
		}
		if _, err := conn.ScheduleBatch(batch); err != nil {
			return err
		}
	}
	return conn.Flush(ctx)
}

// report prints one line: deliveries/s summed over the subscribers as
// nats bench sums them, and over the whole run.
func report(results []result, wall time.Duration) error {
	var rate float64
	var got, dropped, lost uint64
	for i, r := range results {
		if r.err != nil {
			return fmt.Errorf("subscriber %d after %d messages: %w", i, r.got, r.err)
		}
		if d := r.last.Sub(r.first).Seconds(); d > 0 {
			rate += float64(r.got) / d
		}
		got += r.got
		dropped += r.dropped
		lost += r.lost
	}
	fmt.Printf("subscribers=%d delivered=%d dropped=%d lost=%d rate=%.0f wall_rate=%.0f\n",
		len(results), got, dropped, lost, rate, float64(got)/wall.Seconds())
	return nil
}

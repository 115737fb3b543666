// Package bustest holds what the bus's tests and its NATS link's tests
// share. It does not import the bus, so that the bus's own tests can use
// it.
package bustest

import (
	"encoding/binary"
	"testing"
)

// Next returns what a subscriber receives next: the envelope's op, its
// count (of a "dropped" notice) and the body.
type Next func() (op string, count uint64, body []byte)

// ReadFeed reads what subscriber name receives until n messages are
// accounted for, received or counted in "dropped" notices, and returns
// how many were dropped. Each message's body starts with its sequence
// number, 4 bytes big-endian, from 0: they must come in order, one after
// the other until the first drop, and with gaps only after one.
func ReadFeed(t testing.TB, name string, n uint64, next Next) (dropped uint64) {
	t.Helper()
	var received uint64
	last := -1
	for received+dropped < n {
		op, count, body := next()
		switch op {
		case "msg":
			if len(body) < 4 {
				t.Fatalf("%s: a message of %d bytes, without its sequence number", name, len(body))
			}
			seq := int(binary.BigEndian.Uint32(body))
			if seq <= last || dropped == 0 && seq != last+1 {
				t.Fatalf("%s: message %d after %d (%d dropped)", name, seq, last, dropped)
			}
			last = seq
			received++
		case "dropped":
			if count == 0 {
				t.Fatalf("%s: a dropped notice without a count", name)
			}
			dropped += count
		default:
			t.Fatalf("%s: got a %q", name, op)
		}
	}
	if received+dropped != n {
		t.Fatalf("%s: received %d and %d dropped, want %d in all", name, received, dropped, n)
	}
	return dropped
}

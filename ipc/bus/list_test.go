package bus

import (
	"context"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
)

// TestListingOfManyMembers: a listing larger than the lister's frames
// comes in pages, each member once and in connection order, the group's
// and the whole bus's.
func TestListingOfManyMembers(t *testing.T) {
	const n = 2000
	tb := startBus(t, Options{})
	sub := []byte(`{"op":"sub","group":"many-members-of-one-group"}` + "\n")
	for range n { // raw clients: they need not read their hello
		nc, err := net.Dial("unix", filepath.Join(tb.dir, "b"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		if err := ipc.WriteFrame(nc, sub); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	// Frames of about 16 KiB: far less than the listing.
	lister, err := Dial(ctx, tb.dir, "b", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer lister.Close()
	var members []Member
	for deadline := time.Now().Add(wait); len(members) < n && time.Now().Before(deadline); {
		if members, err = lister.Members(ctx, "many-members-of-one-group"); err != nil {
			t.Fatal(err)
		}
	}
	checkListing(t, members, n)
	all, err := lister.Members(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	checkListing(t, all, n+1)
	if all[n].Addr != lister.Addr() {
		t.Fatalf("the lister, last to connect, is %s in the listing", all[n].Addr)
	}
}

// checkListing checks that members are n clients in connection order.
func checkListing(t *testing.T, members []Member, n int) {
	t.Helper()
	if len(members) != n {
		t.Fatalf("%d members listed, want %d", len(members), n)
	}
	last := uint64(0)
	for _, m := range members {
		seq, err := strconv.ParseUint(m.Addr[1:], 10, 64)
		if err != nil || seq <= last {
			t.Fatalf("member %s after c%d: want connection order, each once", m.Addr, last)
		}
		last = seq
	}
}

// TestListingAfterABadAddress: a list whose after is no address of the
// bus is a malformed envelope.
func TestListingAfterABadAddress(t *testing.T) {
	tb := startBus(t, Options{})
	c := tb.dial()
	send(t, c, &Header{Op: "list", After: "x7"}, nil)
	recvOp(t, c, "error")
}

package natsbus

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ipcctl/ipcctl/ipc/bus"
)

// TestMembersAcross lists the clients of both buses from one: its own in
// connection order, then the other's with its bus named, in pages that
// pass from one bus to the other and within the other.
func TestMembersAcross(t *testing.T) {
	c := cluster(t, 1)
	one, two := startNode(t, c.URLs()), startNode(t, c.URLs())
	lister := one.dial()
	local := one.dial("news")
	one.waitEvent(KindJoined)
	const n = 300 // more than one page
	for i := range n {
		if i%2 == 0 {
			two.dial("news", "other")
		} else {
			two.dial()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var all []bus.Member
	for deadline := time.Now().Add(wait); len(all) < n+2 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var err error
		if all, err = lister.Members(ctx, ""); err != nil {
			t.Fatal(err)
		}
	}
	if len(all) != n+2 {
		t.Fatalf("%d members listed, want %d", len(all), n+2)
	}
	if all[0].Addr != lister.Addr() || all[1].Addr != local.Addr() || all[0].Bus != "" {
		t.Fatalf("first %+v %+v: want the bus's own clients, in connection order", all[0], all[1])
	}
	seen := map[string]bool{}
	last := ""
	for _, m := range all[2:] {
		if !strings.HasSuffix(m.Addr, "@"+two.fed.ID()) || m.Bus != "host/"+two.dir || seen[m.Addr] {
			t.Fatalf("member %+v: want a client of bus %s once, with its label", m, two.fed.ID())
		}
		if last != "" && remoteSeq(t, m.Addr) <= remoteSeq(t, last) {
			t.Fatalf("%s after %s: want the other bus's order", m.Addr, last)
		}
		seen[m.Addr], last = true, m.Addr
	}
	// A member is listed once it joined; its groups follow in notices
	// of their own, so they are waited for too.
	var news []bus.Member
	for deadline := time.Now().Add(wait); !allIn(news, n/2+1, 2) && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var err error
		if news, err = lister.Members(ctx, "news"); err != nil {
			t.Fatal(err)
		}
	}
	if len(news) != n/2+1 || news[0].Addr != local.Addr() {
		t.Fatalf("news: %d members from %+v, want %d, %s first", len(news), news[0], n/2+1, local.Addr())
	}
	for _, m := range news[1:] {
		if len(m.Groups) != 2 || m.Groups[0] != "news" {
			t.Fatalf("member of news %+v: want groups news other", m)
		}
	}
}

// allIn reports whether ms holds n members, each but the first (the
// local one) in groups groups.
func allIn(ms []bus.Member, n, groups int) bool {
	if len(ms) != n {
		return false
	}
	for _, m := range ms[1:] {
		if len(m.Groups) != groups {
			return false
		}
	}
	return true
}

// remoteSeq is the number of a remote address, cN@ID.
func remoteSeq(t *testing.T, addr string) int {
	var n int
	if _, err := fmt.Sscanf(addr, "c%d@", &n); err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	return n
}

package ipc

import (
	"os"
	"testing"
)

func TestPeerCred(t *testing.T) {
	a, _ := socketPair(t)
	c, err := peerCred(a)
	if err != nil {
		t.Fatal(err)
	}
	want := Cred{PID: os.Getpid(), UID: os.Getuid(), GID: os.Getgid()}
	if c != want {
		t.Fatalf("got %+v, want %+v", c, want)
	}
	if nc := NewConn(a, 0); nc.Peer() != want {
		t.Fatalf("Conn.Peer: got %+v, want %+v", nc.Peer(), want)
	}
}

func TestAllowPermits(t *testing.T) {
	me := Cred{PID: os.Getpid(), UID: os.Getuid(), GID: os.Getgid()}
	other := Cred{PID: os.Getpid(), UID: 65534, GID: 65534}
	groups, _ := os.Getgroups()
	cases := []struct {
		name  string
		allow *Allow
		cred  Cred
		want  bool
	}{
		{"nil list", nil, other, true},
		{"empty list", &Allow{}, other, true},
		{"uid listed", &Allow{UIDs: []int{me.UID}}, me, true},
		{"uid not listed", &Allow{UIDs: []int{me.UID + 1}}, me, false},
		{"gid listed", &Allow{GIDs: []int{me.GID}}, me, true},
		{"gid not listed", &Allow{UIDs: []int{12345}, GIDs: []int{54321}}, other, false},
	}
	if len(groups) > 0 {
		// A supplementary group is read from /proc/PID/status.
		g := groups[len(groups)-1]
		cases = append(cases, struct {
			name  string
			allow *Allow
			cred  Cred
			want  bool
		}{"supplementary gid", &Allow{GIDs: []int{g}}, Cred{PID: os.Getpid(), UID: 65534, GID: 65533}, true})
	}
	for _, c := range cases {
		if got := c.allow.Permits(c.cred); got != c.want {
			t.Errorf("%s: Permits(%+v) = %v, want %v", c.name, c.cred, got, c.want)
		}
	}
	if !(*Allow)(nil).Empty() || (&Allow{UIDs: []int{1}}).Empty() {
		t.Fatal("Empty is wrong")
	}
}

func TestLookupIDs(t *testing.T) {
	if n, err := LookupUID("123"); err != nil || n != 123 {
		t.Fatalf("LookupUID(123) = %d, %v", n, err)
	}
	if n, err := LookupGID("456"); err != nil || n != 456 {
		t.Fatalf("LookupGID(456) = %d, %v", n, err)
	}
	if n, err := LookupUID("root"); err != nil || n != 0 {
		t.Fatalf("LookupUID(root) = %d, %v", n, err)
	}
	if n, err := LookupGID("root"); err != nil || n != 0 {
		t.Fatalf("LookupGID(root) = %d, %v", n, err)
	}
	if _, err := LookupUID("no-such-user-here"); err == nil {
		t.Fatal("an unknown user was accepted")
	}
	if _, err := LookupGID("no-such-group-here"); err == nil {
		t.Fatal("an unknown group was accepted")
	}
	if _, err := LookupUID("-1"); err == nil {
		t.Fatal("a negative uid was accepted")
	}
}

package ipc

import (
	"os"
	"slices"
	"testing"
)

func TestParseAllow(t *testing.T) {
	a, err := ParseAllow([]byte("# comment\nuid 0\n\n  gid 27  \nuid 4294967295\n"))
	if err != nil || !slices.Equal(a.UIDs, []int{0, 4294967295}) || !slices.Equal(a.GIDs, []int{27}) {
		t.Fatalf("ParseAllow: %+v, %v", a, err)
	}
	for _, bad := range []string{"", "# only a comment\n", "uid\n", "uid -1\n", "uid 4294967296\n", "pid 3\n", "uid 1 2\n", "uid 0x10\n"} {
		if a, err := ParseAllow([]byte(bad)); err == nil {
			t.Errorf("ParseAllow(%q) = %+v, want an error", bad, a)
		}
	}
}

// TestServicePublishesAllow: the allow list is beside the socket while
// the service runs, read back as it was given, and gone at Close; a
// service without one removes a stale file.
func TestServicePublishesAllow(t *testing.T) {
	dir := runDir(t)
	l := newLoop(t, Options{RunDir: dir})
	s := serve(t, l, "svc", ServiceOptions{Allow: &Allow{UIDs: []int{4242}, GIDs: []int{27, 28}}})
	a, err := readAllow(s.Path(), func(int) bool { return true })
	if err != nil || a == nil || !slices.Equal(a.UIDs, []int{4242}) || !slices.Equal(a.GIDs, []int{27, 28}) {
		t.Fatalf("published list: %+v, %v", a, err)
	}
	if fi, err := os.Stat(allowPath(s.Path())); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("allow file: %v, %v", fi, err)
	}
	s.Close()
	if _, err := os.Lstat(allowPath(s.Path())); !os.IsNotExist(err) {
		t.Fatalf("the allow file outlived the service: %v", err)
	}
	if err := os.WriteFile(allowPath(s.Path()), []byte("uid 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	serve(t, newLoop(t, Options{RunDir: dir}), "svc", ServiceOptions{})
	if _, err := os.Lstat(allowPath(s.Path())); !os.IsNotExist(err) {
		t.Fatalf("a stale allow file was kept by a service without a list: %v", err)
	}
}

func FuzzParseAllow(f *testing.F) {
	f.Add([]byte("uid 0\ngid 27\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseAllow(data)
		if err != nil {
			return
		}
		if a.Empty() {
			t.Fatal("an empty list parsed without error")
		}
		b, err := ParseAllow(formatAllow("x", a))
		if err != nil || !slices.Equal(a.UIDs, b.UIDs) || !slices.Equal(a.GIDs, b.GIDs) {
			t.Fatalf("round trip: %+v, then %+v, %v", a, b, err)
		}
	})
}

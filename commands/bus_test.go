package commands

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/ipcctl/ipcctl/ipc/bus"
)

func TestBusLine(t *testing.T) {
	s := &busSession{groups: []string{"chat"}}
	tests := []struct {
		line      string
		op        string
		group, to string
		call      uint64
		fail      bool
		groups    string
		body      string
		bad       bool
	}{
		{line: "hello", group: "chat", body: "hello"},
		{line: "", group: "chat", body: ""},
		{line: "#news big news", group: "news", body: "big news"},
		{line: "#news", group: "news", body: ""},
		{line: "@c7 psst", to: "c7", body: "psst"},
		{line: "@c7  two spaces", to: "c7", body: " two spaces"},
		{line: "#chat @not-an-address", group: "chat", body: "@not-an-address"},
		{line: "#chat /sub x", group: "chat", body: "/sub x"},
		{line: "?3 @c2 the answer", op: "answer", to: "c2", call: 3, body: "the answer"},
		{line: "?3 @c2", op: "answer", to: "c2", call: 3, body: ""},
		{line: "/fail ?9 @c2 no disk", op: "answer", to: "c2", call: 9, fail: true, body: "no disk"},
		{line: "/fail ?9 @c2", op: "answer", to: "c2", call: 9, fail: true, body: "failed"},
		{line: "/sub a b a", op: "sub", groups: "a b"},
		{line: "/unsub @presence", op: "unsub", groups: "@presence"},
		{line: "@", bad: true},
		{line: "# no group", bad: true},
		{line: "#@presence hi", bad: true},
		{line: "@c\x01 x", bad: true},
		{line: "?", bad: true},
		{line: "?0 @c1 x", bad: true},
		{line: "?x @c1 x", bad: true},
		{line: "?3 c1 x", bad: true},
		{line: "?3 @ x", bad: true},
		{line: "/fail @c1 x", bad: true},
		{line: "/sub", bad: true},
		{line: "/sub bad\x01", bad: true},
		{line: "/tmp/file", bad: true},
	}
	for _, tt := range tests {
		got, body, err := s.parseLine([]byte(tt.line))
		if tt.bad {
			if err == nil {
				t.Errorf("%q: got %+v, want an error", tt.line, got)
			}
			continue
		}
		if tt.op == "" {
			tt.op = "msg"
		}
		if err != nil || got.op != tt.op || got.target.group != tt.group || got.target.to != tt.to ||
			got.call != tt.call || got.fail != tt.fail || strings.Join(got.groups, " ") != tt.groups || string(body) != tt.body {
			t.Errorf("%q: got %+v %q %v, want %+v", tt.line, got, body, err, tt)
		}
	}
	noGroup := &busSession{}
	if _, _, err := noGroup.parseLine([]byte("plain")); err == nil {
		t.Error("a plain line without --group: want an error")
	}
}

// FuzzBusLine checks that a line of connect --bus either fails or asks
// one valid thing: a message to one valid destination, an answer to a
// valid address, or a sub or unsub of valid groups; and that a payload
// is the line's own bytes.
func FuzzBusLine(f *testing.F) {
	for _, seed := range []string{"hello", "#news text", "@c1 hi", "@", "#", "#@presence x", "\xff\x00",
		"?1 @c1 yes", "/fail ?2 @c1 why", "/sub a b", "/unsub a", "/x"} {
		f.Add([]byte(seed))
	}
	s := &busSession{groups: []string{"g"}}
	f.Fuzz(func(t *testing.T, line []byte) {
		got, body, err := s.parseLine(line)
		if err != nil {
			return
		}
		switch got.op {
		case "sub", "unsub":
			if len(got.groups) == 0 || len(body) != 0 {
				t.Fatalf("%q: %s of no group, or with a body: %+v %q", line, got.op, got, body)
			}
			for _, g := range got.groups {
				if bus.ValidGroup(g) != nil {
					t.Fatalf("%q: bad group %q accepted", line, g)
				}
			}
			return
		case "answer":
			if got.call == 0 || got.target.group != "" || checkAddr(got.target.to) != nil {
				t.Fatalf("%q: bad answer accepted: %+v", line, got)
			}
		case "msg":
			if got.fail || got.call != 0 {
				t.Fatalf("%q: a message with answer fields: %+v", line, got)
			}
		default:
			t.Fatalf("%q: unknown op %q", line, got.op)
		}
		switch {
		case (got.target.group == "") == (got.target.to == ""):
			t.Fatalf("%q: want one of group and to: %+v", line, got)
		case got.target.group != "" && (bus.ValidGroup(got.target.group) != nil || bus.Own(got.target.group)):
			t.Fatalf("%q: bad group %q accepted", line, got.target.group)
		case got.target.to != "" && checkAddr(got.target.to) != nil:
			t.Fatalf("%q: bad address %q accepted", line, got.target.to)
		case !bytes.HasSuffix(line, body) && !(got.fail && string(body) == "failed"):
			t.Fatalf("%q: body %q is not the line's end", line, body)
		}
	})
}

func TestHandlerFailure(t *testing.T) {
	tests := []struct {
		script string
		text   string
		status int
	}{
		{"exit 3", "handler exited with status 3", 3},
		{"kill -KILL $$", "handler killed by SIGKILL", 137},
	}
	for _, tt := range tests {
		err := exec.Command("/bin/sh", "-c", tt.script).Run()
		text, status := handlerFailure(err)
		if text != tt.text || status == nil || *status != tt.status {
			t.Errorf("%s: got %q %v, want %q %d", tt.script, text, status, tt.text, tt.status)
		}
	}
}

package commands

import (
	"bytes"
	"os/exec"
	"testing"

	"github.com/ipcctl/ipcctl/ipc/bus"
)

func TestBusLine(t *testing.T) {
	s := &busSession{groups: []string{"chat"}}
	tests := []struct {
		line      string
		group, to string
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
		{line: "@", bad: true},
		{line: "# no group", bad: true},
		{line: "#@presence hi", bad: true},
		{line: "@c\x01 x", bad: true},
	}
	for _, tt := range tests {
		got, body, err := s.parseLine([]byte(tt.line))
		if tt.bad {
			if err == nil {
				t.Errorf("%q: got %+v, want an error", tt.line, got)
			}
			continue
		}
		if err != nil || got.group != tt.group || got.to != tt.to || string(body) != tt.body {
			t.Errorf("%q: got %+v %q %v, want group %q to %q body %q", tt.line, got, body, err, tt.group, tt.to, tt.body)
		}
	}
	noGroup := &busSession{}
	if _, _, err := noGroup.parseLine([]byte("plain")); err == nil {
		t.Error("a plain line without --group: want an error")
	}
}

// FuzzBusLine checks that a line of connect --bus either fails or names
// one valid destination, and that its payload is the line's own bytes.
func FuzzBusLine(f *testing.F) {
	for _, seed := range []string{"hello", "#news text", "@c1 hi", "@", "#", "#@presence x", "\xff\x00"} {
		f.Add([]byte(seed))
	}
	s := &busSession{groups: []string{"g"}}
	f.Fuzz(func(t *testing.T, line []byte) {
		got, body, err := s.parseLine(line)
		if err != nil {
			return
		}
		switch {
		case (got.group == "") == (got.to == ""):
			t.Fatalf("%q: want one of group and to: %+v", line, got)
		case got.group != "" && (bus.ValidGroup(got.group) != nil || bus.Own(got.group)):
			t.Fatalf("%q: bad group %q accepted", line, got.group)
		case got.to != "" && checkAddr(got.to) != nil:
			t.Fatalf("%q: bad address %q accepted", line, got.to)
		case !bytes.HasSuffix(line, body):
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

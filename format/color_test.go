package format

import (
	"os"
	"strings"
	"testing"
)

func TestParseColorMode(t *testing.T) {
	for in, want := range map[string]ColorMode{"": ColorAuto, "auto": ColorAuto, "always": ColorAlways, "never": ColorNever} {
		if got, err := ParseColorMode(in); err != nil || got != want {
			t.Errorf("ParseColorMode(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseColorMode("yes"); err == nil {
		t.Error("ParseColorMode(yes) succeeded")
	}
}

func TestUseColor(t *testing.T) {
	// A pipe is never a terminal, so auto mode colours it only when forced.
	_, pipe, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pipe.Close()
	tests := []struct {
		name                    string
		mode                    ColorMode
		noColor, force, termVar string
		want                    bool
	}{
		{"auto pipe", ColorAuto, "", "", "xterm", false},
		{"always", ColorAlways, "1", "", "dumb", true},
		{"never", ColorNever, "", "1", "xterm", false},
		{"force", ColorAuto, "", "1", "xterm", true},
		{"force zero", ColorAuto, "", "0", "xterm", false},
		{"force false", ColorAuto, "", "false", "xterm", false},
		{"no color beats force", ColorAuto, "1", "1", "xterm", false},
		{"force beats dumb", ColorAuto, "", "1", "dumb", true},
		{"unknown mode is auto", ColorMode("bogus"), "", "1", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("NO_COLOR", tt.noColor)
			t.Setenv("FORCE_COLOR", tt.force)
			t.Setenv("TERM", tt.termVar)
			if got := UseColor(tt.mode, pipe); got != tt.want {
				t.Errorf("UseColor = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUseColorTerminal(t *testing.T) {
	tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no terminal:", err)
	}
	defer tty.Close()
	t.Setenv("NO_COLOR", "")
	t.Setenv("FORCE_COLOR", "")
	t.Setenv("TERM", "xterm")
	if !UseColor(ColorAuto, tty) {
		t.Error("no colour on a terminal")
	}
	t.Setenv("TERM", "dumb")
	if UseColor(ColorAuto, tty) {
		t.Error("colour with TERM=dumb")
	}
	t.Setenv("TERM", "xterm")
	t.Setenv("NO_COLOR", "1")
	if UseColor(ColorAuto, tty) {
		t.Error("colour with NO_COLOR")
	}
}

func TestStyle(t *testing.T) {
	plain := NewStyle(false)
	var zero Style
	for _, s := range []Style{plain, zero} {
		if s.Enabled() || s.Prompt("p> ") != "p> " || s.Incoming("x") != "x" ||
			s.Error("e") != "e" || s.Dim("d") != "d" {
			t.Errorf("disabled style adds colour")
		}
	}
	on := NewStyle(true)
	for _, got := range []string{on.Prompt("p> "), on.Incoming("x"), on.Error("e"), on.Dim("d")} {
		if !strings.HasPrefix(got, "\x1b[") || !strings.Contains(got[2:], "\x1b[") {
			t.Errorf("enabled style: %q has no colour", got)
		}
	}
	if !on.Enabled() {
		t.Error("NewStyle(true) is not enabled")
	}
}

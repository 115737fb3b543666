package format

import (
	"fmt"
	"os"

	"github.com/fatih/color"
	"github.com/mattn/go-isatty"
)

// ColorMode is the --color setting: ColorAuto, ColorAlways or ColorNever.
// It is a string so that a checked flag value converts to it directly; an
// unknown value behaves as ColorAuto.
type ColorMode string

const (
	// ColorAuto colours a terminal unless the environment says otherwise.
	ColorAuto ColorMode = "auto"
	// ColorAlways colours whatever the output and the environment.
	ColorAlways ColorMode = "always"
	// ColorNever never colours.
	ColorNever ColorMode = "never"
)

// ParseColorMode parses "auto", "always" or "never"; "" is auto.
func ParseColorMode(s string) (ColorMode, error) {
	switch m := ColorMode(s); m {
	case ColorAuto, ColorAlways, ColorNever:
		return m, nil
	case "":
		return ColorAuto, nil
	}
	return ColorAuto, fmt.Errorf("bad color mode %q: want auto, always or never", s)
}

// UseColor reports whether output to f should be coloured: the one place
// that decides it. ColorAlways and ColorNever are obeyed as they are. In
// auto mode, in this order: NO_COLOR set and not empty means no colour
// (no-color.org); FORCE_COLOR set and not empty means colour, unless it is
// "0" or "false"; TERM=dumb means no colour; otherwise colour when f is a
// terminal.
func UseColor(mode ColorMode, f *os.File) bool {
	switch mode {
	case ColorAlways:
		return true
	case ColorNever:
		return false
	}
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	if force := os.Getenv("FORCE_COLOR"); force != "" {
		return force != "0" && force != "false"
	}
	if os.Getenv("TERM") == "dumb" || f == nil {
		return false
	}
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// Style colours the parts of the interactive connect screen. Its zero
// value, like NewStyle(false), adds no colour. Colour is switched on each
// color.Color it holds, never through color.NoColor, so two Styles with
// different settings can live side by side.
type Style struct {
	prompt, incoming, err, dim *color.Color
}

// NewStyle returns a Style that colours when enabled is true and returns
// its strings unchanged otherwise.
func NewStyle(enabled bool) Style {
	if !enabled {
		return Style{}
	}
	return Style{
		prompt:   enable(color.New(color.FgCyan, color.Bold)),
		incoming: enable(color.New(color.FgGreen)),
		err:      enable(color.New(color.FgRed, color.Bold)),
		dim:      enable(color.New(color.Faint)),
	}
}

func enable(c *color.Color) *color.Color {
	c.EnableColor()
	return c
}

// Enabled reports whether s adds colour.
func (s Style) Enabled() bool { return s.prompt != nil }

// Prompt styles the prompt.
func (s Style) Prompt(str string) string { return paint(s.prompt, str) }

// Incoming styles a received message.
func (s Style) Incoming(str string) string { return paint(s.incoming, str) }

// Error styles an error message.
func (s Style) Error(str string) string { return paint(s.err, str) }

// Dim styles a note of less importance.
func (s Style) Dim(str string) string { return paint(s.dim, str) }

func paint(c *color.Color, s string) string {
	if c == nil {
		return s
	}
	return c.Sprint(s)
}

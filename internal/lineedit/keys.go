package lineedit

import (
	"strconv"
	"syscall"
	"unicode"

	"golang.org/x/sys/unix"
)

// escState follows an escape sequence (an arrow or function key) so that
// its bytes are not taken for typed text: the editor does not move a
// cursor inside the line.
type escState uint8

const (
	escNone  escState = iota
	escStart          // ESC seen
	escCSI            // ESC [ or ESC O seen: parameters until a final byte
)

// swallow reports whether b belongs to an escape sequence.
func (s *escState) swallow(b byte) bool {
	switch *s {
	case escStart:
		if b == '[' || b == 'O' {
			*s = escCSI
		} else {
			*s = escNone // ESC and one key: Alt-key
		}
		return true
	case escCSI:
		if b >= 0x40 && b <= 0x7e {
			*s = escNone
		}
		return true
	}
	return false
}

// width is the number of columns s takes on a terminal when it starts at
// column col (tabs stop every 8 columns), escape sequences such as colours
// taking none; col is added to the result.
func width(s string, col int) int {
	var esc escState
	for _, r := range s {
		switch {
		case esc.swallow(byteOf(r)):
		case r == keyEscape:
			esc = escStart
		case r == '\t':
			col += 8 - col%8
		case r >= 0x20 && r != keyDelete:
			col += runeWidth(r)
		}
	}
	return col
}

// wide are the ranges of characters a terminal shows two columns wide
// (East Asian wide and fullwidth, and emoji).
var wide = [][2]rune{
	{0x1100, 0x115f}, {0x2e80, 0x303e}, {0x3041, 0x33ff}, {0x3400, 0x4dbf},
	{0x4e00, 0x9fff}, {0xa000, 0xa4cf}, {0xac00, 0xd7a3}, {0xf900, 0xfaff},
	{0xfe30, 0xfe4f}, {0xff00, 0xff60}, {0xffe0, 0xffe6}, {0x1f300, 0x1f64f},
	{0x1f900, 0x1f9ff}, {0x20000, 0x3fffd},
}

// runeWidth is the number of columns r takes: 0 for a combining mark,
// 2 for a wide character, else 1.
func runeWidth(r rune) int {
	if unicode.In(r, unicode.Mn, unicode.Me) || r == 0x200b {
		return 0
	}
	for _, w := range wide {
		if r >= w[0] && r <= w[1] {
			return 2
		}
	}
	return 1
}

// byteOf is r as one byte for the escape state, 0 when it is wider.
func byteOf(r rune) byte {
	if r > 0x7f {
		return 0
	}
	return byte(r)
}

// wordStart is where the last word of buf starts, spaces after it
// included, as Ctrl-W erases it.
func wordStart(buf []byte) int {
	i := len(buf)
	for i > 0 && (buf[i-1] == ' ' || buf[i-1] == '\t') {
		i--
	}
	for i > 0 && buf[i-1] != ' ' && buf[i-1] != '\t' {
		i--
	}
	return i
}

func itoa(n int) string { return strconv.Itoa(n) }

// handleSignals gives the terminal back while the process is stopped
// (Ctrl-Z) and takes it again when it continues.
func (e *Editor) handleSignals() {
	for sig := range e.sigs {
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return
		}
		if sig == syscall.SIGTSTP {
			if e.shown {
				e.write("\n")
				e.shown = false
			}
			e.restore()
			e.mu.Unlock()
			// Go cannot give SIGTSTP its default action back once it was
			// notified: SIGSTOP stops the process as SIGTSTP would have.
			unix.Kill(unix.Getpid(), syscall.SIGSTOP)
			continue
		}
		if !e.ended {
			e.makeRaw()
			e.draw()
		}
		e.mu.Unlock()
	}
}

// Package lineedit reads lines typed on a terminal while other output is
// printed above them: when a message arrives the half-typed line is
// cleared, the message printed, and the prompt and the line drawn again.
//
// The terminal is put in non-canonical mode without echo, so the editor
// sees each key and echoes it itself; signals (Ctrl-C, Ctrl-Z) stay with
// the kernel. Close puts the terminal back as it was and leaves the
// cursor on a fresh line; a stop (Ctrl-Z) gives the shell back the
// terminal as it was, and a continue takes it again.
package lineedit

import (
	"errors"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// Keys the editor acts on; every other control byte is ignored.
const (
	keyEOF       = 0x04 // Ctrl-D: the end of input on an empty line
	keyBackspace = 0x08 // Ctrl-H
	keyTab       = 0x09
	keyNewline   = 0x0a
	keyRedraw    = 0x0c // Ctrl-L
	keyReturn    = 0x0d
	keyKillLine  = 0x15 // Ctrl-U
	keyKillWord  = 0x17 // Ctrl-W
	keyEscape    = 0x1b
	keyDelete    = 0x7f
)

// Editor is a line editor on one terminal. Its methods may be called from
// several goroutines.
type Editor struct {
	in     *os.File
	out    *os.File // the terminal the prompt and the echo go to
	prompt string
	pwidth int

	mu     sync.Mutex
	buf    []byte
	shown  bool // the prompt and buf are on the screen
	ended  bool // input ended: no prompt any more
	closed bool
	saved  *unix.Termios // the terminal's state before New
	raw    *unix.Termios
	esc    escState
	sigs   chan os.Signal
}

// New takes over the terminal in, whose echo and prompt go to out (both
// usually the same terminal). It fails when in is not a terminal.
func New(in, out *os.File, prompt string) (*Editor, error) {
	saved, err := unix.IoctlGetTermios(int(in.Fd()), unix.TCGETS)
	if err != nil {
		return nil, err
	}
	raw := *saved
	raw.Lflag &^= unix.ICANON | unix.ECHO | unix.ECHONL | unix.IEXTEN
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(int(in.Fd()), unix.TCSETS, &raw); err != nil {
		return nil, err
	}
	e := &Editor{in: in, out: out, prompt: prompt, pwidth: width(prompt, 0),
		saved: saved, raw: &raw, sigs: make(chan os.Signal, 4)}
	signal.Notify(e.sigs, syscall.SIGTSTP, syscall.SIGCONT)
	go e.handleSignals()
	return e, nil
}

// ReadLines sends each line typed (without its newline) to lines until
// the input ends (Ctrl-D on an empty line, or an end of file), then sends
// the reason to done: io.EOF, or the read's error.
func (e *Editor) ReadLines(lines chan<- []byte, done chan<- error) {
	e.mu.Lock()
	e.draw()
	e.mu.Unlock()
	var chunk [512]byte
	for {
		n, err := e.in.Read(chunk[:])
		for _, line := range e.keys(chunk[:n]) {
			lines <- line
		}
		if e.hasEnded() {
			done <- io.EOF
			return
		}
		if err != nil {
			e.end()
			if errors.Is(err, os.ErrClosed) {
				err = io.EOF
			}
			done <- err
			return
		}
	}
}

// Print runs write, which prints something on the terminal, with the
// prompt and the half-typed line out of its way, and draws them again
// after it.
func (e *Editor) Print(write func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.clear()
	write()
	e.draw()
}

// Close gives the terminal back as it was before New and leaves the
// cursor at the start of a fresh line: a half-typed line stays on the
// screen above it, an empty prompt is erased.
func (e *Editor) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	signal.Stop(e.sigs)
	close(e.sigs)
	if e.shown && len(e.buf) > 0 {
		e.write("\n")
	} else {
		e.clear()
	}
	e.shown, e.ended = false, true
	return unix.IoctlSetTermios(int(e.in.Fd()), unix.TCSETS, e.saved)
}

// keys applies the bytes read and returns the lines they completed.
func (e *Editor) keys(p []byte) [][]byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	var lines [][]byte
	start := len(e.buf) // what was appended since the last echo
	for _, b := range p {
		if e.ended {
			break
		}
		if e.esc.swallow(b) {
			continue
		}
		if b >= 0x20 && b != keyDelete || b == keyTab {
			e.buf = append(e.buf, b)
			continue
		}
		e.echo(start)
		switch b {
		case keyNewline, keyReturn:
			lines = append(lines, append([]byte(nil), e.buf...))
			e.write("\n")
			e.buf, e.shown = e.buf[:0], false
			e.draw()
		case keyEOF:
			if len(e.buf) == 0 {
				e.clear()
				e.ended = true
				e.restore()
			}
		case keyBackspace, keyDelete:
			_, n := utf8.DecodeLastRune(e.buf)
			e.edit(e.buf[:len(e.buf)-n])
		case keyKillLine:
			e.edit(e.buf[:0])
		case keyKillWord:
			e.edit(e.buf[:wordStart(e.buf)])
		case keyRedraw:
			e.write("\033[H\033[2J")
			e.shown = false
			e.draw()
		case keyEscape:
			e.esc = escStart
		}
		start = len(e.buf)
	}
	e.echo(start)
	return lines
}

// edit replaces the line with buf, a prefix of it, and redraws it.
func (e *Editor) edit(buf []byte) {
	e.clear()
	e.buf = buf
	e.draw()
}

// echo shows what was typed since start, the end of the line shown.
func (e *Editor) echo(start int) {
	if e.shown && start < len(e.buf) {
		e.out.Write(e.buf[start:])
	}
}

// draw shows the prompt and the line if they are not on the screen.
func (e *Editor) draw() {
	if e.shown || e.ended {
		return
	}
	e.write(e.prompt + string(e.buf))
	e.shown = true
}

// clear erases the prompt and the line, from the start of the row the
// prompt began on, however many rows the line wrapped to.
func (e *Editor) clear() {
	if !e.shown {
		return
	}
	e.shown = false
	cols := e.columns()
	w := width(string(e.buf), e.pwidth)
	if up := (w - 1) / cols; w > 0 && up > 0 {
		e.write("\033[" + itoa(up) + "A")
	}
	e.write("\r\033[J")
}

func (e *Editor) write(s string) { io.WriteString(e.out, s) }

// columns is the terminal's width, 80 if it does not say.
func (e *Editor) columns() int {
	ws, err := unix.IoctlGetWinsize(int(e.out.Fd()), unix.TIOCGWINSZ)
	if err != nil || ws.Col == 0 {
		return 80
	}
	return int(ws.Col)
}

func (e *Editor) hasEnded() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ended
}

// end stops the prompt and gives the terminal back: the input is over.
func (e *Editor) end() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.clear()
	e.ended = true
	e.restore()
}

// restore puts the terminal back as it was before New.
func (e *Editor) restore() {
	unix.IoctlSetTermios(int(e.in.Fd()), unix.TCSETS, e.saved)
}

// makeRaw puts the terminal in the editor's mode again.
func (e *Editor) makeRaw() {
	unix.IoctlSetTermios(int(e.in.Fd()), unix.TCSETS, e.raw)
}

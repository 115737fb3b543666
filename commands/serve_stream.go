package commands

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/ipcctl/ipcctl/format"
	"github.com/ipcctl/ipcctl/ipc"
	"golang.org/x/sys/unix"
)

// commandHelp ends the message about a bad stdin command.
const commandHelp = "want: send ID PAYLOAD, broadcast PAYLOAD or close ID"

// readCommands runs the commands read from r, one per line, until r ends.
// A bad command is reported on stderr and the next line is read: the
// service never stops because of its stdin.
func (s *server) readCommands(r io.Reader) {
	if backgroundTTY(r) {
		return
	}
	br := bufio.NewReaderSize(r, 64<<10)
	// An escaped payload takes at most 4 bytes per byte.
	limit := 4*s.cfg.maxSize + 64
	for n := 1; ; n++ {
		line, err := readLine(br, limit)
		if errors.Is(err, bufio.ErrBufferFull) {
			s.stderr.warnf("stdin line %d: longer than %d bytes; ignored", n, limit)
			continue
		}
		if len(line) > 0 && !s.stopping.Load() {
			if cerr := s.command(line); cerr != nil {
				s.stderr.warnf("stdin line %d: %v", n, cerr)
			}
		}
		if err != nil {
			if err != io.EOF {
				s.stderr.warnf("reading commands on stdin: %v", err)
			}
			return // no more commands; the service goes on
		}
	}
}

// backgroundTTY reports whether r is a terminal of which this process is
// not in the foreground: reading it would stop the process (SIGTTIN), as
// "ipcctl serve NAME &" typed in an interactive shell would be.
func backgroundTTY(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	pgrp, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCGPGRP)
	return err == nil && pgrp != unix.Getpgrp()
}

// readLine returns the next line of br without its newline. A line over
// limit bytes (its newline not counted) is skipped and reported with
// bufio.ErrBufferFull.
func readLine(br *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(bytes.TrimSuffix(chunk, []byte("\n"))) > limit {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err == nil {
				err = bufio.ErrBufferFull
			}
			return nil, err
		}
		line = append(line, chunk...)
		if !errors.Is(err, bufio.ErrBufferFull) {
			return bytes.TrimSuffix(line, []byte("\n")), err
		}
	}
}

// command runs one stdin command.
func (s *server) command(line []byte) error {
	verb, rest := cutWord(line)
	switch string(verb) {
	case "send":
		id, payload := cutWord(rest)
		c, err := s.client(id)
		if err != nil {
			return err
		}
		p, err := unescapePayload(payload)
		if err != nil {
			return err
		}
		return c.Schedule(p)
	case "broadcast":
		p, err := unescapePayload(rest)
		if err != nil {
			return err
		}
		s.loop.Broadcast(s.svc, p)
		return nil
	case "close":
		c, err := s.client(rest)
		if err != nil {
			return err
		}
		go closeAfterFlush(c)
		return nil
	}
	return fmt.Errorf("unknown command %q (%s)", format.Escape(nil, verb), commandHelp)
}

// cutWord splits line at its first space or tab: the word before it, and
// the rest after it (one separator removed, so a payload keeps its spaces).
func cutWord(line []byte) (word, rest []byte) {
	if i := bytes.IndexAny(line, " \t"); i >= 0 {
		return line[:i], line[i+1:]
	}
	return line, nil
}

// client returns the connected client with the given id.
func (s *server) client(id []byte) (*ipc.Conn, error) {
	if len(id) == 0 {
		return nil, fmt.Errorf("missing client id (%s)", commandHelp)
	}
	n, err := strconv.ParseUint(string(id), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("bad client id %q (%s)", format.Escape(nil, id), commandHelp)
	}
	c := s.loop.Conn(n)
	if c == nil {
		return nil, fmt.Errorf("no client %d (it may have disconnected)", n)
	}
	return c, nil
}

// unescapePayload decodes a payload written as serve prints payloads.
func unescapePayload(p []byte) ([]byte, error) {
	out, err := format.Unescape(p)
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	return out, nil
}

// closeAfterFlush closes c once what was scheduled for it is written, or
// after shutdownWait if the client does not read.
func closeAfterFlush(c *ipc.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
	defer cancel()
	c.Flush(ctx)
	c.Close()
}

package commands

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ipcctl/ipcctl/ipc/bus"
)

// connectBusLines is the part of connect's help about its line language.
const connectBusLines = "Each line of stdin is addressed by its first word: \"@ADDR text\" sends " +
	"text to the client at address ADDR, \"#G text\" publishes it to group G, and any other line " +
	"goes to the first group of the session as it is (to send a line that starts with @, #, ? or /, " +
	"address it: \"#G @text\"). Incoming messages print as \"@FROM #G text\" (sent to a group) or " +
	"\"@FROM text\" (sent to this client), so a line can be answered by copying its address; a call " +
	"(send -w) prints as \"?N @FROM #G text\" or \"?N @FROM text\", and is answered the same way: " +
	"\"?N @FROM answer\" sends answer to FROM as the answer to its call N, \"/fail ?N @FROM reason\" " +
	"answers it with an error. \"/sub G...\" and \"/unsub G...\" subscribe to and unsubscribe from " +
	"groups during the session (stderr says \"ipcctl: subscribed to G\" once the bus has it in place, " +
	"\"ipcctl: unsubscribed from G\"); " +
	"presence notices (--group @presence or /sub @presence) print as \"@ADDR !EVENT [#G]\"."

// busLine is one stdin line of connect --bus, parsed.
type busLine struct {
	op     string    // "msg", "answer", "sub" or "unsub"
	target busTarget // msg: where it goes; answer: the caller, in to
	call   uint64    // answer: the call it answers
	fail   bool      // answer: an error answer, whose text is the body
	groups []string  // sub, unsub
}

// parseLine splits a line into what it asks and its payload: "@ADDR
// text", "#G text", "?N @ADDR answer", "/fail ?N @ADDR reason", "/sub
// G...", "/unsub G...", or a plain line for the session's first group.
func (s *busSession) parseLine(line []byte) (busLine, []byte, error) {
	if len(line) == 0 {
		return s.plainLine(line)
	}
	switch line[0] {
	case '@', '#':
		t, body, err := parseTarget(line)
		return busLine{op: "msg", target: t}, body, err
	case '?':
		return parseAnswer(line, false)
	case '/':
		return parseCommand(line)
	}
	return s.plainLine(line)
}

// plainLine is a line for the session's first group.
func (s *busSession) plainLine(line []byte) (busLine, []byte, error) {
	if len(s.groups) == 0 || bus.Own(s.groups[0]) {
		return busLine{}, nil, errors.New("line not sent: start it with @ADDR or #GROUP, or give a --group (or /sub G) to send plain lines to")
	}
	return busLine{op: "msg", target: busTarget{group: s.groups[0]}}, line, nil
}

// parseTarget reads "@ADDR text" or "#G text".
func parseTarget(line []byte) (busTarget, []byte, error) {
	word, body, _ := bytes.Cut(line[1:], []byte(" "))
	addr := string(word)
	if line[0] == '@' {
		if err := checkAddr(addr); err != nil {
			return busTarget{}, nil, fmt.Errorf("line not sent: %v", err)
		}
		return busTarget{to: addr}, body, nil
	}
	if err := bus.ValidGroup(addr); err != nil {
		return busTarget{}, nil, fmt.Errorf("line not sent: group %q: %v", addr, err)
	}
	if bus.Own(addr) {
		return busTarget{}, nil, fmt.Errorf("line not sent: group %s is the bus's own", addr)
	}
	return busTarget{group: addr}, body, nil
}

// parseAnswer reads "?N @ADDR text", the answer to call N of ADDR.
func parseAnswer(line []byte, fail bool) (busLine, []byte, error) {
	word, rest, _ := bytes.Cut(line[1:], []byte(" "))
	call, err := strconv.ParseUint(string(word), 10, 64)
	if err != nil || call == 0 {
		return busLine{}, nil, fmt.Errorf("line not sent: %q is no call: answer a call as \"?N @ADDR text\", N the call's number", "?"+string(word))
	}
	if len(rest) == 0 || rest[0] != '@' {
		return busLine{}, nil, fmt.Errorf("line not sent: the answer to call %d needs the caller: \"?%d @ADDR text\"", call, call)
	}
	t, body, err := parseTarget(rest)
	if err != nil {
		return busLine{}, nil, err
	}
	if fail && len(body) == 0 {
		body = []byte("failed")
	}
	return busLine{op: "answer", target: t, call: call, fail: fail}, body, nil
}

// parseCommand reads "/sub G...", "/unsub G..." or "/fail ?N @ADDR reason".
func parseCommand(line []byte) (busLine, []byte, error) {
	word, rest, _ := bytes.Cut(line[1:], []byte(" "))
	switch cmd := string(word); cmd {
	case "fail":
		if len(rest) == 0 || rest[0] != '?' {
			return busLine{}, nil, errors.New("line not sent: /fail answers a call with an error: \"/fail ?N @ADDR reason\"")
		}
		return parseAnswer(rest, true)
	case "sub", "unsub":
		groups := strings.Fields(string(rest))
		if len(groups) == 0 {
			return busLine{}, nil, fmt.Errorf("line not sent: /%s needs a group: \"/%s G...\"", cmd, cmd)
		}
		var once []string // each group once, in the order given
		for _, g := range groups {
			if err := bus.ValidGroup(g); err != nil {
				return busLine{}, nil, fmt.Errorf("line not sent: group %q: %v", g, err)
			}
			if !slices.Contains(once, g) {
				once = append(once, g)
			}
		}
		return busLine{op: cmd, groups: once}, nil, nil
	}
	return busLine{}, nil, fmt.Errorf("line not sent: unknown command %q (/sub, /unsub and /fail are; to send a line that starts with /, address it: \"#G /text\")", "/"+string(word))
}

// header returns the envelope a parsed line sends, for one group of a
// sub or unsub.
func (l *busLine) header(group string) *bus.Header {
	switch l.op {
	case "answer":
		return &bus.Header{Op: "answer", To: l.target.to, Call: l.call}
	case "sub", "unsub":
		return &bus.Header{Op: l.op, Group: group}
	}
	h := l.target.header()
	h.Undeliverable = true
	return &h
}

// sendLine sends one stdin line as it asks.
func (s *busSession) sendLine(line []byte) error {
	l, body, err := s.parseLine(line)
	if err != nil {
		s.badLines++
		s.note("error", err.Error())
		return nil
	}
	if l.op != "sub" && l.op != "unsub" {
		h := l.header("")
		if l.fail {
			h.Error, body = string(body), nil
		}
		return s.cl.Send(h, body)
	}
	for _, g := range l.groups {
		if err := s.cl.Send(l.header(g), nil); err != nil {
			return err
		}
		s.joined(l.op, g)
	}
	return nil
}

// joined keeps the session's groups as a sub or unsub leaves them: plain
// lines go to the first.
func (s *busSession) joined(op, g string) {
	i := slices.Index(s.groups, g)
	switch {
	case op == "sub" && i < 0:
		s.groups = append(s.groups, g)
	case op == "unsub" && i >= 0:
		s.groups = slices.Delete(s.groups, i, i+1)
	}
}

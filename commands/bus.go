package commands

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/ipcctl/ipcctl/ipc"
	"github.com/ipcctl/ipcctl/ipc/bus"
	"github.com/urfave/cli/v2"
)

// groupFlag is --group, the flag that makes send, listen, connect and
// dump speak the bus (package ipc/bus). A new one per command, as a slice
// flag keeps what it parsed.
func groupFlag(usage string) cli.Flag {
	return &cli.StringSliceFlag{Name: "group", Usage: usage}
}

// dialBus connects to the bus named by the command's first argument, as
// dialService does (--max-size bounds a message's payload; the frame has
// room for its header too), and reads the bus's hello.
func dialBus(ctx context.Context, c *cli.Context, g Globals) (*bus.Client, error) {
	if err := checkArgs(c, 1, -1); err != nil {
		return nil, err
	}
	max, err := sizeFlag(c, "max-size")
	if err != nil {
		return nil, err
	}
	name := c.Args().First()
	conn, err := dialFrames(ctx, c, g, bus.FrameMax(max))
	if err != nil {
		return nil, err
	}
	cl, err := bus.NewClient(conn)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("service %s: %w", name, err)
	}
	return cl, nil
}

// busGroups returns the --group values, each checked.
func busGroups(c *cli.Context) ([]string, error) {
	groups := c.StringSlice("group")
	for _, gr := range groups {
		if err := bus.ValidGroup(gr); err != nil {
			return nil, UsageErrorf("--group %q: %v", gr, err)
		}
	}
	return groups, nil
}

// checkAddr checks an address given on the command line: printable ASCII
// without space, as the bus assigns them.
func checkAddr(addr string) error {
	if addr == "" {
		return errors.New("empty address")
	}
	for i := 0; i < len(addr); i++ {
		if addr[i] < 0x21 || addr[i] > 0x7e {
			return fmt.Errorf("address %q: want printable ASCII without space", addr)
		}
	}
	return nil
}

// errorOf returns the error an "error" envelope from the bus carries.
func errorOf(name string, h *bus.Header) error {
	return fmt.Errorf("%w: bus %s: %s", ipc.ErrBadData, name, h.Error)
}

// callFailed is the error of a call its callee answered with an error.
func callFailed(h *bus.Header) error {
	msg := h.Error
	if h.Status != nil && !strings.Contains(msg, "status") {
		msg = fmt.Sprintf("%s (status %d)", msg, *h.Status)
	}
	return fmt.Errorf("%s answered with an error: %s", h.From, msg)
}

// unavailableError is a message or call nobody can answer: it exits 69
// like ipc.ErrRefused, with a message of its own.
type unavailableError struct{ msg string }

func (e *unavailableError) Error() string        { return e.msg }
func (e *unavailableError) Is(target error) bool { return target == ipc.ErrRefused }

// unavailable returns an unavailableError with a formatted message.
func unavailable(format string, args ...any) error {
	return &unavailableError{msg: fmt.Sprintf(format, args...)}
}

// lostError is the error of a call whose callee left before it answered.
func lostError(h *bus.Header) error {
	reason := h.Reason
	if reason == "" {
		reason = "disconnected"
	}
	return unavailable("%s %s before answering", h.From, reason)
}

// undeliverableError is the error of a message nobody received.
func undeliverableError(h *bus.Header) error {
	if h.To != "" {
		return unavailable("no client at address %s on the bus", h.To)
	}
	return unavailable("group %s has no members", h.Group)
}

// sortedGroups returns groups sorted, without changing the caller's slice.
func sortedGroups(groups []string) []string {
	out := append([]string(nil), groups...)
	sort.Strings(out)
	return out
}

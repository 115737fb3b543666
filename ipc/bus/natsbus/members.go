package natsbus

import (
	"slices"

	"github.com/ipcctl/ipcctl/ipc/bus"
)

// remote is a client of another bus, as its presence notices and state
// told of it.
type remote struct {
	bus.Member // without Bus: the peer's label is that
}

// remoteOf is the client a presence notice tells of.
func remoteOf(h *bus.Header) *remote {
	c := &remote{Member: bus.Member{Addr: h.Addr, Groups: h.Groups, PID: h.PID}}
	if h.UID != nil {
		c.UID = *h.UID
	}
	if h.GID != nil {
		c.GID = *h.GID
	}
	return c
}

// Members returns the clients of the other buses that this bus knows of,
// the members of group g only when g is not "", each with its bus's
// label.
func (f *Fed) Members(g string) []bus.Member {
	var ms []bus.Member
	for _, p := range f.peers {
		for _, c := range p.clients {
			if g != "" && !slices.Contains(c.Groups, g) {
				continue
			}
			m := c.Member
			m.Groups = append([]string{}, m.Groups...)
			m.Bus = p.label
			ms = append(ms, m)
		}
	}
	return ms
}

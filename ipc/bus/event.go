package bus

import (
	"time"

	"github.com/ipcctl/ipcctl/ipc"
)

// Kind says what an Event is about.
type Kind string

// The kinds of Event a Bus reports.
const (
	KindConnection    Kind = "connection"    // a client connected and got its address
	KindDisconnection Kind = "disconnection" // a client went away
	KindSubscribe     Kind = "subscribe"     // a client joined Group
	KindUnsubscribe   Kind = "unsubscribe"   // a client left Group
	KindMessage       Kind = "message"       // a client sent a message (Options.Messages)
	KindAnswer        Kind = "answer"        // a client answered a call (Options.Messages)
	KindDropped       Kind = "dropped"       // Count messages for a slow client were discarded
	KindError         Kind = "error"         // a client did something wrong, or its connection failed
)

// Event is one thing that happened on a bus, for its operator.
type Event struct {
	Kind Kind
	// Addr is the client's address on the bus; Conn its connection.
	Addr string
	Conn *ipc.Conn
	// Group is the group joined or left, or a message's group; To a
	// message's address; Call a message's or answer's call id.
	Group string
	To    string
	Call  uint64
	// Body is a message's or answer's body, lent until Report returns.
	Body []byte
	// Count is how many messages were dropped, for KindDropped.
	Count uint64
	// Err says what went wrong, for KindError (and a disconnection that
	// was not a clean end of stream).
	Err  error
	Time time.Time
}

// reportMessage reports a message or answer routed, with Options.Messages.
func (b *Bus) reportMessage(k Kind, cl *client, h *Header, body []byte, at time.Time) {
	if !b.opts.Messages || b.opts.Report == nil {
		return
	}
	b.opts.Report(Event{Kind: k, Addr: cl.addr, Conn: cl.conn, Group: h.Group, To: h.To, Call: h.Call, Body: body, Time: at})
}

package natsbus

import "time"

// Kind says what an Event is about.
type Kind string

// The kinds of Event a Fed reports.
const (
	KindConnected    Kind = "nats-connected"    // connected to the server URL
	KindDisconnected Kind = "nats-disconnected" // lost its server (Err); it reconnects
	KindReconnected  Kind = "nats-reconnected"  // connected again, to URL; subscriptions are back
	KindError        Kind = "nats-error"        // the client reported Err (a slow consumer...)
	KindLost         Kind = "nats-lost"         // Count messages were lost, Dir "in" or "out", for Err
	KindJoined       Kind = "bus-joined"        // the bus Bus (id Peer) was heard of, with Count clients
	KindLeft         Kind = "bus-left"          // the bus Bus said goodbye or stopped beating; Count clients gone
)

// Event is one thing that happened to the link, for its operator.
type Event struct {
	Kind  Kind
	URL   string
	Count uint64
	Dir   string
	Bus   string // another bus's label
	Peer  string // another bus's id
	Err   error
	Time  time.Time
}

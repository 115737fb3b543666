package ipc

import "time"

// EventType says what an Event is about. The values follow LibIPC's
// event_types.
type EventType uint8

// The events Wait returns.
const (
	EventError         EventType = iota // a problem with a connection, or a refused peer
	EventConnection                     // a new client
	EventDisconnection                  // a client or service went away
	EventMessage                        // a message was received
	EventSent                           // a scheduled message was written
	EventTimer                          // the loop's periodic timer fired
	EventExternal                       // an external fd is ready to read
	EventSwitchRx                       // a switched connection received a message
	EventSwitchTx                       // a message was passed on through a switch
)

var eventNames = [...]string{
	EventError:         "error",
	EventConnection:    "connection",
	EventDisconnection: "disconnection",
	EventMessage:       "message",
	EventSent:          "sent",
	EventTimer:         "timer",
	EventExternal:      "external",
	EventSwitchRx:      "switch-rx",
	EventSwitchTx:      "switch-tx",
}

// String returns the event's name as ipcctl prints it.
func (t EventType) String() string {
	if int(t) < len(eventNames) {
		return eventNames[t]
	}
	return "unknown"
}

// Event is one thing that happened, as Wait returns it.
type Event struct {
	Type EventType
	// Conn is the connection concerned, if any. For a refused peer it is
	// already closed and carries the peer's credentials.
	Conn *Conn
	// Service is the service that accepted Conn, if any.
	Service *Service
	// External is the external fd that is ready, for EventExternal.
	External *External
	// Switch is the switch concerned, for switch events.
	Switch *Switch
	// Payload is the message, for message, sent and switch events.
	Payload []byte
	// Err says what went wrong, for EventError (and for an
	// EventDisconnection that was not a clean end of stream).
	Err error
	// Time is when the event happened.
	Time time.Time
}

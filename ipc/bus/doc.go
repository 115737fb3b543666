// Package bus is a message bus on top of package ipc, after BIND10's
// msgq: local programs publish to groups, address each other directly and
// call each other, through one service, without a foreign broker.
//
// A bus is an ordinary ipc service (ipcctl serve --bus NAME). Every frame,
// both ways, holds an envelope: a header of one line of compact JSON, a
// "\n", then the body's raw bytes (any bytes, possibly none). Encode and
// Decode make and read envelopes; docs/protocol.md lists every op and
// field, so that a program in any language can speak to a bus.
//
// Each client gets a unique address in its hello ("c1", "c2"...; treat it
// as opaque). A message goes to one address or to a group; a client may be
// in any number of groups, and sending to an empty group is legal. From
// one sender to one recipient, messages arrive in the order sent. A sender
// that asks is told at once when nobody received a message
// (undeliverable). The group "@presence" hears of every client that
// connects, disconnects, subscribes and unsubscribes, and a client may ask
// for the members of a group or for every client.
//
// A call is a message with a call id: its callees answer with the same id.
// The bus tracks who owes an answer, so that a caller whose callee
// disconnects, or leaves the group the call went to, is told at once
// ("lost") rather than at its timeout. A call to a group with each set
// reaches every member, and the bus tells the caller exactly whom it
// reached ("calls") before any answer: the member list and the call cannot
// disagree, which answers msgq's warning about lists that change between
// listing and calling.
//
// A slow client never stalls the bus or the others: what waits to be sent
// to it is bounded (Options.QueueBytes, 1 MiB by default); past the bound
// its messages are dropped and counted, and once its queue has room again
// it is told how many it lost ("dropped"), before any later message. A
// client that sends a malformed envelope gets an "error" notice and is
// closed; the bus goes on.
//
// New makes a Bus of a service of an ipc.Loop; the loop's events go to
// Handle (or Serve), on the goroutine that waits for them. A Client (Dial,
// NewClient) is the other end: Subscribe, Publish, SendTo, Send, Recv,
// Members.
package bus

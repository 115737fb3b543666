// Package natsbus joins buses (package bus) on several machines into one
// bus over a NATS cluster, through the official Go client: it is the
// bus.Link of ipcctl serve --bus NAME --nats URL.
//
// Every bus has a prefix (ipcctl.NAME by default) and an id of its own,
// made when it starts. A group G is the subject PREFIX.G; a bus subscribes
// to it while G has members on that bus, publishes there what its clients
// send to G, and hands what it receives from there to its members. Its
// connection to NATS does not receive its own messages (NoEcho), so each
// member of G on every bus gets a message once, and in the order its
// sender sent it. A client of another bus has the address ADDR@ID ("c3@k2j9x0qa");
// PREFIX.@addr.ID reaches the clients of bus ID by address. A message to
// a group names its sender by its reply subject, PREFIX.@from.ID.ADDR,
// rather than by a header: NATS clients decode headers into a map, at a
// cost larger than the rest of the message.
//
// A call to a group with no member on the bus, or to an address of another
// bus, is a NATS request: the answer of the first callee ends it, NATS's
// "no responders" is the caller's undeliverable, and a callee that goes
// away before answering makes its bus answer "lost". The caller's bus
// also awaits the buses that may answer (the one of the address, or those
// with members of the group, as presence tells): when every one of them
// has dropped out, lost its members of the group or answered "lost", the
// caller is told "lost" at once rather than left to its timeout. A
// plain NATS client may publish to and request from PREFIX.G (nats pub,
// nats req); what it sends comes from "@nats".
//
// Presence: each bus publishes its clients' presence notices on
// PREFIX.@presence and a heartbeat on PREFIX.@bus. A bus learns the
// clients of a bus it has not heard before by asking it, and reports
// the departure of all of them when that bus says goodbye or its
// heartbeat stops.
//
// The NATS client's callbacks run on its own goroutines: what they
// receive waits in a bounded queue, and an eventfd watched by the loop
// (an ipc.External) wakes the loop, whose goroutine hands it to the bus.
// While it is full, the callbacks wait, and what comes waits in the NATS
// client's pending buffers, bounded by the subscriptions' pending limits:
// what the client drops past them is counted and reported. The bus holds
// the link back (bus.LinkPauser) while a local subscriber is behind, as
// it holds a local publisher back, for Options.PushWait at most. What the
// bus publishes goes through a bounded queue to a goroutine of its own,
// so that the loop never waits for the NATS client; while NATS is away it
// waits in the client's bounded reconnect buffer. Past half the queue's
// bound the bus holds the local senders back (bus.LinkBacklog), and past
// either bound what comes is dropped and counted.
// docs/protocol.md lists the subjects and headers.
package natsbus

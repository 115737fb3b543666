// Package ipc is the engine of ipcctl: LibIPC's model of inter-process
// communication, in Go and wire-compatible with LibIPC.
//
// A service is a Unix stream socket named after the service in a run
// directory (ResolveRunDir: --rundir, $IPC_RUNDIR, $RUNDIR, then
// /tmp/.libipc-run). A message is a frame: a 4-byte big-endian payload
// length, then the payload; an empty payload is a message too. A
// FrameReader reassembles frames split over many reads and splits many
// frames out of one read, and refuses a length over its limit before
// allocating anything.
//
// A Loop is LibIPC's context. It owns services (Listen), connections (Dial
// then Add), external file descriptors (AddExternal), switches (AddSwitch)
// and a periodic timer (SetTimer), and Wait hands out, one at a time, what
// happens to them: a connection, a disconnection, a message received, a
// scheduled message sent, a timer tick, an external fd ready, a message
// passed through a switch, an error. Each event carries the connection it
// concerns, and each connection the peer's credentials (SO_PEERCRED) and
// private data the caller may attach (SetData). The event Wait returns is
// the loop's until the next Wait, as LibIPC's ipc_wait_event fills one.
//
// Sending is Conn.Write (now, blocking) or Conn.Schedule (queued, batched
// into few system calls, reported later by EventSent unless
// Options.NoSentEvents); Conn.ScheduleBatch
// queues many messages at the cost of one Schedule. Each send queue is
// bounded in bytes; a peer that does not read is closed with ErrQueueFull
// by default (see Overflow), so memory stays bounded whatever peers do.
// Receiving is bounded too: Wait reads a connection itself (one epoll
// instance for the loop, polled by the runtime) only when it has handed
// out the frames of the last read, so a peer that sends faster than the
// caller handles its messages fills its socket and is slowed down by the
// kernel. Each payload handed out is the caller's; with
// Options.BorrowPayloads it is only lent until the next Wait, which saves
// an allocation per read.
//
// A service may accept only some users and groups (ServiceOptions.Allow);
// refused peers are closed at once and reported as an EventError wrapping
// ErrPermission. Clients have a synchronous path beside the event stream:
// Conn.Request sends one message and waits for the reply.
//
// A service is:
//
//	loop := ipc.NewLoop(ipc.Options{})
//	defer loop.Close()
//	if _, err := loop.Listen("pong", ipc.ServiceOptions{}); err != nil {
//		log.Fatal(err)
//	}
//	for {
//		ev, err := loop.Wait(ctx)
//		if err != nil {
//			break
//		}
//		if ev.Type == ipc.EventMessage {
//			ev.Conn.Schedule(ev.Payload) // echo
//		}
//	}
//
// and its client:
//
//	c, err := ipc.Dial(ctx, "pong", ipc.DialOptions{})
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer c.Close()
//	reply, err := c.Request(ctx, []byte("hello"))
//
// A listening socket made elsewhere, such as one a service manager
// passed at exec (socket activation), is served with Loop.ListenOn, or
// Adopt outside a loop; its socket file is left to its maker.
//
// What is built on the engine lives in packages of its own beside it,
// using only this package's exported API: ipc/bridge (endpoints beyond
// the run directory, framings, TCPd, TLS, WebSocket, $IPC_NETWORK
// routing), ipc/bus (groups, presence and calls) and ipc/activation
// (sockets and readiness under a service manager).
//
// Interoperating with LibIPC: a service holds LibIPC's lock file
// NAME.lock with flock while it runs, so neither side steals the other's
// name, and leaves the file in place as LibIPC does. LibIPC itself parses
// one frame per read(2), treats a read of 4 bytes or fewer (so an empty
// message) as a disconnection, and gives up on frames over 99,992 bytes:
// keep messages to a LibIPC program non-empty, under that size, and do not
// send it several at once without waiting for its answers.
package ipc

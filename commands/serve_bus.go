package commands

import (
	"github.com/ipcctl/ipcctl/format"
	"github.com/ipcctl/ipcctl/ipc"
	"github.com/ipcctl/ipcctl/ipc/bus"
)

// serveBusDescription is the part of serve's help about --bus.
const serveBusDescription = "With --bus, NAME is a message bus (the envelope is in docs/protocol.md; " +
	"\"ipcctl send\", \"listen\", \"connect\" and \"dump\" speak it with --group, --to, --bus and --members). " +
	"Each client gets an address (c1, c2, ...), printed as the client of its events: \"connection\" " +
	"(address, pid, uid, gid), \"subscribe\" and \"unsubscribe\" (address, group=G), \"disconnection\", " +
	"\"error\" (a malformed envelope: the client is told and disconnected, the bus goes on) and " +
	"\"dropped\" (address, count=N: a slow client's queue was full and N messages for it were " +
	"discarded; it is told so once it reads again). With --verbose, also \"message\" (sender, payload, " +
	"group=G or to=ADDR, call=N for a call) and \"answer\" (callee, payload, to=ADDR, call=N). " +
	"What waits to be sent to one client is bounded by 1MiB: a subscriber that reads but falls " +
	"behind holds the publishers back, and loses nothing; one that does not read for 100ms " +
	"(stopped) no longer does, and loses what does not fit. It never slows the bus or the others. --max-size bounds the payloads; stdin commands are not read. The envelope, " +
	"the calls and the slow-client policy are described in docs/protocol.md, \"The bus\"."

// newBus makes the service a bus: the engine's events go to the bus, and
// what the bus reports is printed.
func (s *server) newBus() error {
	opts := bus.Options{
		MaxSize:  s.cfg.maxSize,
		Report:   s.busReport,
		Messages: s.cfg.g.Verbose,
	}
	if s.cfg.nats == nil {
		s.bus = bus.New(s.svc, opts)
		return nil
	}
	if err := s.newLink(); err != nil {
		return err
	}
	opts.Link = s.fed
	s.bus = bus.New(s.svc, opts)
	if err := s.fed.Attach(s.bus); err != nil {
		s.fed.Close(0)
		return err
	}
	return nil
}

// busEvent hands one engine event to the bus, and prints the events that
// are not the bus's (the timer, a refused peer) as other modes do.
func (s *server) busEvent(ev *ipc.Event) error {
	if s.bus.Handle(ev) || s.fed != nil && s.fed.Handle(ev) {
		return s.busErr
	}
	if ev.Type == ipc.EventTimer {
		s.ticks++
		return s.write(timerRecord(ev, s.ticks))
	}
	if ev.Type == ipc.EventSent {
		return nil
	}
	return s.write(eventRecord(ev))
}

// busReport prints one bus event.
func (s *server) busReport(e bus.Event) {
	r := &format.Record{Event: string(e.Kind), Client: e.Addr, Time: e.Time}
	switch e.Kind {
	case bus.KindConnection:
		s.clients.Add(1)
		p := e.Conn.Peer()
		r.Peer = &format.Peer{PID: p.PID, UID: p.UID, GID: p.GID}
	case bus.KindDisconnection:
		s.left1()
	case bus.KindSubscribe, bus.KindUnsubscribe:
		r.Fields = append(r.Fields, format.Field{Key: "group", Value: e.Group})
	case bus.KindDropped:
		r.Fields = append(r.Fields, format.Field{Key: "count", Value: e.Count})
	case bus.KindMessage, bus.KindAnswer:
		r.Data = format.Payload(e.Body)
		r.Fields = busRoute(e)
	}
	if e.Err != nil {
		r.Fields = append(r.Fields, format.Field{Key: "error", Value: e.Err.Error()})
	}
	if err := s.write(r); err != nil && s.busErr == nil {
		s.busErr = err
	}
}

// busRoute is where a message or answer went, as fields.
func busRoute(e bus.Event) []format.Field {
	var f []format.Field
	if e.Group != "" {
		f = append(f, format.Field{Key: "group", Value: e.Group})
	}
	if e.To != "" {
		f = append(f, format.Field{Key: "to", Value: e.To})
	}
	if e.Call != 0 {
		f = append(f, format.Field{Key: "call", Value: e.Call})
	}
	return f
}

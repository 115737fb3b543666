package commands

import (
	"fmt"
	"io"
	"sync"

	"github.com/ipcctl/ipcctl/format"
	"github.com/ipcctl/ipcctl/ipc"
)

// The records serve prints. Engine events become records here; the events
// serve makes itself (listening, a process that failed) are built here too.

// eventRecord converts an engine event into the record serve prints.
func eventRecord(ev *ipc.Event) *format.Record {
	r := &format.Record{Event: ev.Type.String(), Time: ev.Time}
	if ev.Conn != nil {
		r.Client = clientID(ev.Conn)
	}
	switch ev.Type {
	case ipc.EventConnection:
		if a := peerAddr(ev.Conn); a != nil {
			r.Fields = append(r.Fields, format.Field{Key: "peer", Value: a.String()})
			break
		}
		p := ev.Conn.Peer()
		r.Peer = &format.Peer{PID: p.PID, UID: p.UID, GID: p.GID}
	case ipc.EventMessage, ipc.EventSent:
		r.Data = format.Payload(ev.Payload)
	}
	if ev.Err != nil {
		r.Fields = append(r.Fields, format.Field{Key: "error", Value: ev.Err.Error()})
	}
	return r
}

// listeningRecord announces that svc accepts clients.
func listeningRecord(svc *ipc.Service) *format.Record {
	if svc.Path() == "" { // a network endpoint
		return &format.Record{Event: "listening", Fields: []format.Field{
			{Key: "endpoint", Value: svc.Addr().String()},
		}}
	}
	return &format.Record{Event: "listening", Fields: []format.Field{
		{Key: "service", Value: svc.Name()},
		{Key: "path", Value: svc.Path()},
	}}
}

// timerRecord is the n-th tick of the timer.
func timerRecord(ev *ipc.Event, n int64) *format.Record {
	return &format.Record{Event: "timer", Time: ev.Time, Fields: []format.Field{{Key: "tick", Value: n}}}
}

// errorRecord is an error about client c (nil: none) that serve itself
// notices, such as a process that failed.
func errorRecord(c *ipc.Conn, msg string, fields ...format.Field) *format.Record {
	r := &format.Record{Event: "error"}
	if c != nil {
		r.Client = clientID(c)
	}
	r.Fields = append([]format.Field{{Key: "error", Value: msg}}, fields...)
	return r
}

// lockedWriter serialises writes to stderr from the goroutines of serve
// and the processes it runs, so that lines do not interleave.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// warnf prints an error message for the user: the service goes on.
func (l *lockedWriter) warnf(f string, args ...any) {
	fmt.Fprintf(l, "ipcctl: error: "+f+"\n", args...)
}

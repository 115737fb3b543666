package ipc

// Pending returns how many events wait to be handed out by Wait. A caller
// that buffers its output flushes it when Pending is 0: a burst of events
// then costs one write, while a lone event is not held back.
func (l *Loop) Pending() int { return len(l.events) }

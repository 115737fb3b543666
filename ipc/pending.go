package ipc

// Pending returns how many events wait to be handed out by Wait (at
// least; a batch still queued counts as one). A caller that buffers its
// output flushes it when Pending is 0: a burst of events then costs one
// write, while a lone event is not held back. Like Wait, it is meant for
// the goroutine that calls Wait.
func (l *Loop) Pending() int { return len(l.ready) - l.next + len(l.events) }

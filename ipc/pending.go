package ipc

// Pending returns how many events wait to be handed out by Wait without
// sleeping, counting each connection found ready as one. A caller that
// buffers its output flushes it when Pending is 0: a burst of events then
// costs one write, while a lone event is not held back. When nothing
// waits in memory it asks the poller, without sleeping, whether a
// connection or external is ready, and reads a ready connection to know
// whether it holds a message: part of a frame makes no event, and a peer
// that sends one must not hold back the output of the others. Like Wait,
// it is meant for the goroutine that calls Wait.
func (l *Loop) Pending() int {
	for {
		n := len(l.ready) - l.next + int(l.npost.Load())
		if c := l.cur; c != nil && (c.in.has() || c.in.err != nil) {
			n++
		}
		if n == 0 && l.poll.i == l.poll.n && !l.closed.Load() {
			l.poll.poll()
		}
		if n == 0 && l.poll.i < l.poll.n {
			switch token := l.poll.token(l.poll.i); {
			case token == wakeToken:
				l.poll.i++
				l.poll.drainWake()
				continue
			case token&externalBit == 0:
				l.poll.i++
				l.ready1(token)
				continue
			}
		}
		for i := l.poll.i; i < l.poll.n; i++ {
			if l.poll.token(i) != wakeToken {
				n++
			}
		}
		return n
	}
}

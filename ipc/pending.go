package ipc

// Pending returns how many events wait to be handed out by Wait without
// sleeping, counting each connection found ready as one. A caller that
// buffers its output flushes it when Pending is 0: a burst of events then
// costs one write, while a lone event is not held back. So Pending never
// says 0 while an event waits, and says more than 0 only when Wait has an
// event to hand out: it settles what may make no event first (a
// connection found ready that holds part of a frame, a closed connection
// whose end was handed out already). When nothing waits in memory it asks
// the poller, without sleeping, whether a connection or external is
// ready. Like Wait, it is meant for the goroutine that calls Wait.
func (l *Loop) Pending() int {
	for {
		if l.cur != nil && l.cur.paused.Load() {
			l.cur = nil // what it read waits for ResumeReading
		}
		if c := l.cur; c != nil && !c.in.has() && c.in.err != nil {
			l.cur = nil
			l.ended(c, c.in.err) // a lingering end makes no event yet
		}
		cur := l.cur != nil && l.cur.in.has()
		for !cur {
			l.settle()
			if l.next < len(l.ready) || l.npost.Load() == 0 || l.cur != nil && l.cur.in.has() {
				break
			}
			l.takePosted()
		}
		n := len(l.ready) - l.next + int(l.npost.Load())
		if cur || l.cur != nil && l.cur.in.has() {
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

package bus

import (
	"context"
	"time"
)

// Push-back: a subscriber that reads, but not as fast as a sender
// publishes, would lose messages once its queue is full. So when a batch
// leaves a subscriber's queue past half its bound, the bus stops reading
// the batch's senders (ipc.Conn.PauseReading: the kernel then slows them
// down) until that subscriber's queue is written out. A subscriber that
// does not read it out within Options.PushWait (stopped, stuck) is marked slow:
// from then on it holds no sender back, and loses what does not fit in
// its queue, with a dropped notice, until its queue is empty again. So a
// subscriber that keeps up loses nothing, and a stalled one stalls the
// senders once, for PushWait at most.

// The link is held back the same way: when a batch with messages from
// the link leaves a subscriber past the mark, a link that is a
// LinkPauser stops handing over what it receives (it waits in the
// link's bounded queue) until that subscriber's queue is written out,
// or PushWait passed.

// What local senders pass on to the link waits in the link's own bounded
// queue: a link that is a LinkBacklog and is behind after a batch, past
// half its bound, holds the batch's senders back like a subscriber behind
// does, until it has caught up or PushWait passed. A link still behind
// then is marked slow (linkSlow): it holds no sender back, and loses what
// does not fit, reporting it, until it has caught up. So a NATS
// connection slower than a local publisher paces the publisher, and one
// that is stuck stalls local senders once, for PushWait at most.

// LinkBacklog is a Link that queues what it passes on. Its methods may be
// called from any goroutine.
type LinkBacklog interface {
	// LinkBehind reports whether what waits to be passed on is past half
	// the queue's bound.
	LinkBehind() bool
	// LinkCaughtUp waits until LinkBehind would report false, or the link
	// is closed, and reports whether that came before ctx ended.
	LinkCaughtUp(ctx context.Context) bool
}

// LinkPauser is a Link that the bus can hold back: PauseLink stops it
// calling LinkDeliver until ResumeLink. Both may be called from any
// goroutine.
type LinkPauser interface {
	PauseLink()
	ResumeLink()
}

// DefaultPushWait is how long a client that falls behind may hold senders
// back, unless Options say otherwise.
const DefaultPushWait = 100 * time.Millisecond

// behind reports whether cl's queue is past the push-back mark.
func (b *Bus) behind(cl *client) bool {
	return !cl.slow.Load() && cl.conn.Queued() > b.opts.QueueBytes/2
}

// linkBehind returns the link when it is behind with what the batch's
// senders passed on to it, else nil.
func (b *Bus) linkBehind() LinkBacklog {
	if q, ok := b.opts.Link.(LinkBacklog); ok && b.linkOut > 0 && !b.linkSlow.Load() && q.LinkBehind() {
		return q
	}
	return nil
}

// pushBack pauses the batch's senders until the queues of the clients
// behind are written out, and out has caught up when not nil, or
// PushWait passed: those still behind then are marked slow.
func (b *Bus) pushBack(behind []*client, out LinkBacklog) {
	senders := make([]*client, 0, len(b.senders))
	for _, s := range b.senders {
		if !s.gone {
			s.conn.PauseReading()
			senders = append(senders, s)
		}
	}
	link, _ := b.opts.Link.(LinkPauser)
	if !b.linkSending || len(behind) == 0 {
		link = nil
	}
	if len(senders) == 0 && link == nil {
		return
	}
	if link != nil {
		link.PauseLink()
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), b.opts.PushWait)
		defer cancel()
		var slow []*client
		for _, m := range behind {
			if m.conn.Flush(ctx); ctx.Err() != nil && m.conn.Queued() > 0 {
				m.slow.Store(true)
				slow = append(slow, m)
			}
		}
		outSlow := out != nil && !out.LinkCaughtUp(ctx)
		if outSlow {
			b.linkSlow.Store(true)
		}
		for _, s := range senders {
			s.conn.ResumeReading()
		}
		if link != nil {
			link.ResumeLink()
		}
		for _, m := range slow {
			m.conn.Flush(context.Background()) // it read it all, or it is gone
			m.slow.Store(false)
		}
		if outSlow {
			out.LinkCaughtUp(context.Background()) // it caught up, or it is closed
			b.linkSlow.Store(false)
		}
	}()
}

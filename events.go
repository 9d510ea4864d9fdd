package sety

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
)

// subscribers are the notifiers a host added after New (Subscribe).
type subscribers struct {
	mu   sync.RWMutex
	list []*subscriber
}

type subscriber struct{ n outbox.Notifier }

// Notify tells every subscriber of events.
func (ss *subscribers) Notify(ctx context.Context, events []outbox.Event) {
	ss.mu.RLock()
	list := ss.list
	ss.mu.RUnlock()
	for _, s := range list {
		s.n.Notify(ctx, events)
	}
}

func (ss *subscribers) add(n outbox.Notifier) func() {
	sub := &subscriber{n}
	ss.mu.Lock()
	ss.list = append(slices.Clip(ss.list), sub)
	ss.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			ss.mu.Lock()
			ss.list = slices.DeleteFunc(slices.Clone(ss.list), func(s *subscriber) bool { return s == sub })
			ss.mu.Unlock()
		})
	}
}

// Subscribe tells n of the events of every change this process commits,
// right after the commit, until the returned function is called. It is the
// in-process hint WithNotifier gives, for a notifier built after New (one
// that needs the *Sety). Notify runs in the goroutine that committed (often
// an HTTP request's): keep it short and never call back into Sety from it.
// A notification can be lost (a crash right after a commit) and other
// instances' commits are not notified here: a host that must see every
// event reads the event log (Events, Follow), which the notification can
// wake.
func (s *Sety) Subscribe(n outbox.Notifier) (unsubscribe func()) { return s.subscribers.add(n) }

// NotifyFunc adapts a function to an outbox.Notifier, for Subscribe.
type NotifyFunc func(ctx context.Context, events []outbox.Event)

// Notify calls f.
func (f NotifyFunc) Notify(ctx context.Context, events []outbox.Event) { f(ctx, events) }

// MaxEventsPage is the most events Events returns at once.
const MaxEventsPage = 1000

// Events reads the committed event log — the one the live event stream
// (GET /events/stream) serves, every instance's commits in commit order —
// after the position after (0: from the oldest event kept; see
// WithRetention), up to limit events that match f (0: 100). Each event's
// Position is its place in the log. next is the position the read got to,
// matching or not: keep it as your cursor and pass it as after next time,
// and you miss nothing and see nothing twice, across restarts and whichever
// instance committed. Decode an event's data with the domains' helpers
// (incident.EventPayload, access.LogEventPayload, access.CodeEventPayload).
func (s *Sety) Events(ctx context.Context, after int64, f outbox.Filter, limit int) (events []outbox.Event, next int64, err error) {
	switch {
	case after < 0:
		return nil, after, setyerr.Invalidf("after", "must be 0 or a position Events returned")
	case limit < 0 || limit > MaxEventsPage:
		return nil, after, setyerr.Invalidf("limit", "must be 0 to %d", MaxEventsPage)
	case limit == 0:
		limit = 100
	}
	return s.stores.EventLog().EventsAfter(ctx, after, f, limit)
}

// followPoll is how often Follow reads the log when nothing in this process
// wakes it: other instances' commits reach it within this time.
const followPoll = time.Second

// Follow is a durable consumer of the event log with the host's own
// cursor: it reads the events matching f after the position after and
// hands them to handle in commit order, a batch at a time with the cursor
// the batch takes the reader to, until ctx ends or Close is called. Store
// next with the effect of the batch (in one transaction of your own when
// you can) and start the next Follow from it: delivery is at least once
// across crashes, exactly once while the cursor is stored with the effect.
// This process's commits wake it at once; other instances' within a
// second. A batch may hold no event when the reader only passed events f
// leaves out: store its cursor all the same. An error of handle stops Follow and is returned (the batch is
// not skipped: the next Follow from the stored cursor reads it again); a
// failing read of the store is retried at the next poll. It returns nil
// when ctx ends or Close is called, ErrClosed after Close.
func (s *Sety) Follow(ctx context.Context, after int64, f outbox.Filter,
	handle func(ctx context.Context, events []outbox.Event, next int64) error) error {
	if after < 0 {
		return setyerr.Invalidf("after", "must be 0 or a position Events returned")
	}
	ctx, done, err := s.life.enter(ctx)
	if err != nil {
		return err
	}
	defer done()
	wake := make(chan struct{}, 1)
	defer s.Subscribe(NotifyFunc(func(context.Context, []outbox.Event) {
		select {
		case wake <- struct{}{}:
		default:
		}
	}))()
	poll := time.NewTicker(followPoll)
	defer poll.Stop()
	for {
		events, next, err := s.stores.EventLog().EventsAfter(ctx, after, f, 500)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			s.log.WarnContext(ctx, "event log follower: read failed, retrying", "error", err)
		case len(events) > 0 || next > after:
			if err := handle(ctx, events, next); err != nil {
				return err
			}
			after = next
			if len(events) == 500 {
				continue // more at once
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-poll.C:
		}
	}
}

package webhook

import (
	"context"
	"time"
)

// FanOutLeaser is a Queue whose store can lease the fan-out to one worker
// of the instances sharing it. It is optional: without it every worker
// fans out at its own commits, at most once per fanOutGap.
//
// With it, the worker that holds the lease fans out as before, and a
// worker that finds it held by another fans out at most once per
// followGap: the leader's fan-out takes every committed event, whichever
// instance wrote it, so with two instances on PostgreSQL the second's
// fan-outs (each a transaction under the sequencer's lock, with its run,
// its read of the log and a commit's WAL flush) mostly repeated the
// first's, 20 a second each (bench/README.md, issue 24's "second server").
// Only when events are fanned out changes, never whether or in what order:
// FanOut is correct from any worker, so a follower's fan-outs, and its
// poll, are the safety net should the leader stop, and two leaders (hosts'
// clocks apart) or none cost only time.
type FanOutLeaser interface {
	// LeaseFanOut takes or renews the fan-out's lease for owner until
	// until, unless another owner holds it past now; it reports whether
	// owner holds it. until at now gives it up.
	LeaseFanOut(ctx context.Context, owner string, now, until time.Time) (bool, error)
}

const (
	// leadFor is how long a taken lease lasts: a leader that stops (or
	// goes quiet: only a worker fanning out its own commits renews it)
	// loses it this long after its last renewal at most.
	leadFor = 3 * time.Second
	// leadEvery is how often a worker woken by its commits takes, renews
	// or asks for the lease: one statement a second, not one per fan-out.
	leadEvery = time.Second
	// followGap is the least time between two fan-outs of a worker while
	// another leads: the events of its commits wait for the leader's next
	// fan-out, within fanOutGap under load, or for this long at most.
	followGap = 250 * time.Millisecond
)

// lead is what a worker knows of the fan-out's lease.
type lead struct {
	q       FanOutLeaser // nil: the store has none
	leading bool         // as of asked
	asked   time.Time    // when it last took, renewed or asked (zero: never)
}

// gap is the least time from this worker's last fan-out to its next. A
// fan-out its own commits asked for (own) takes or renews the lease when
// leadEvery has passed since the last ask; a poll's never does, so a
// leader with nothing of its own to fan out lets its lease lapse and a
// busy instance takes it over. A failed ask counts as leading: the
// worker fans out as it would without a lease.
func (s *Service) gap(ctx context.Context, own bool) time.Duration {
	l := &s.lead
	if l.q == nil {
		return fanOutGap
	}
	if now := s.now(); own && (l.asked.IsZero() || now.Sub(l.asked) >= leadEvery) {
		held, err := l.q.LeaseFanOut(ctx, s.owner, now, now.Add(leadFor))
		if err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "webhook worker: the fan-out's lease", "error", err)
		}
		l.leading, l.asked = held || err != nil, now
	}
	if l.leading || l.asked.IsZero() {
		return fanOutGap
	}
	return followGap
}

// release gives the lease up when the worker stops, so another instance's
// worker leads from its next commit, not once the lease has lapsed.
func (s *Service) release(ctx context.Context) {
	l := &s.lead
	if l.q == nil || !l.leading || l.asked.IsZero() {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	now := s.now()
	if _, err := l.q.LeaseFanOut(ctx, s.owner, now, now); err != nil {
		s.log.WarnContext(ctx, "webhook worker: give up the fan-out's lease", "error", err)
	}
	l.leading = false
}

package webhook

import (
	"context"
	"fmt"
	"time"

	"github.com/sety-io/sety/internal/loop"
)

// DefaultRetention is how long finished deliveries and published events are
// kept when Config.Retention is zero.
const DefaultRetention = 30 * 24 * time.Hour

// KeepForever is the Config.Retention (any negative one) that keeps every
// finished delivery and published event.
const KeepForever time.Duration = -1

// purgeBatch is how many rows one purge statement deletes at most: small
// enough that a SQLite writer is never held for long, so requests keep
// committing between batches.
const purgeBatch = 1000

// Purge deletes what Config.Retention no longer keeps, a batch at a time
// until nothing is left: succeeded and failed deliveries created before
// now less Retention; skipped ones created before that and before now less
// ResumeWindow (re-enabling an endpoint may still send those); never a
// pending one. Then the published events older than Retention that no
// delivery refers to any more, so a kept delivery can always be
// redelivered. It returns how many rows it deleted. The worker (Run) calls
// it every PurgeEvery and when it starts; tests call it after moving the
// clock.
func (s *Service) Purge(ctx context.Context) (int, error) {
	total := 0
	for {
		n, more, err := s.purgeOnce(ctx)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

// purgeOnce deletes one batch: deliveries while any are left, then events.
// more says a batch was full, so there may be more to delete.
func (s *Service) purgeOnce(ctx context.Context) (n int, more bool, err error) {
	if s.cfg.Retention < 0 {
		return 0, false, nil
	}
	now := s.now()
	before := now.Add(-s.cfg.Retention)
	skippedBefore := now.Add(-s.cfg.ResumeWindow)
	if before.Before(skippedBefore) {
		skippedBefore = before
	}
	n, err = s.queue.PurgeDeliveries(ctx, before, skippedBefore, purgeBatch)
	s.purged("deliveries", n)
	if err != nil {
		return n, false, fmt.Errorf("purge deliveries: %w", err)
	}
	if n == purgeBatch {
		return n, true, nil
	}
	// Events go once their deliveries have: an event is only deleted when
	// no delivery refers to it.
	e, err := s.queue.PurgeEvents(ctx, before, purgeBatch)
	s.purged("events", e)
	if err != nil {
		return n + e, false, fmt.Errorf("purge events: %w", err)
	}
	return n + e, e == purgeBatch, nil
}

func (s *Service) purged(kind string, n int) {
	if n > 0 && s.cfg.OnPurge != nil {
		s.cfg.OnPurge(kind, n)
	}
}

// runPurge purges every PurgeEvery, and once at the start, until ctx ends.
func (s *Service) runPurge(ctx context.Context) {
	if s.cfg.Retention < 0 {
		return
	}
	start := make(chan struct{}, 1)
	start <- struct{}{} // the first round runs at once: a server restarted daily still purges
	loop.Run(ctx, loop.Loop{Name: "webhook purge", Every: s.cfg.PurgeEvery, Wake: start, Log: s.log},
		func(ctx context.Context) (bool, error) {
			_, more, err := s.purgeOnce(ctx)
			return more, err
		})
}

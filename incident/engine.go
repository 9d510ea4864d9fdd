package incident

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/internal/loop"
)

// The engine moves incidents along without a request: it dispatches new
// live incidents, retries the queue, walks drills through the sandbox
// simulator and records SLA breaches. Its whole state is in the store
// (Tracking.DueAt says when an incident next needs it), so any process can
// run it, a restarted one carries on where the last stopped, and tests
// drive it with Tick and a fake clock instead of timers.

// dueBatch is how many due incidents one Tick handles.
const dueBatch = 100

// Tick handles every incident that is due now and returns how many it
// handled. Run calls it periodically; tests call it after moving the clock.
func (s *Service) Tick(ctx context.Context) (int, error) {
	due, err := s.store.DueIncidents(ctx, s.now(), dueBatch)
	if err != nil {
		return 0, fmt.Errorf("load due incidents: %w", err)
	}
	var errs []error
	for _, inc := range due {
		if err := s.advance(ctx, inc); err != nil {
			errs = append(errs, fmt.Errorf("incident %s: %w", inc.ID, err))
		}
	}
	return len(due), errors.Join(errs...)
}

// Run moves incidents along until ctx ends: it ticks at once after Wake,
// and at least every tickEvery.
func (s *Service) Run(ctx context.Context) {
	loop.Run(ctx, loop.Loop{Name: "incident engine", Every: s.tickEvery(), Wake: s.wake, Log: s.log}, func(ctx context.Context) (bool, error) {
		n, err := s.Tick(ctx)
		return n == dueBatch, err
	})
}

// tickEvery is how often the engine looks for due work: every second, or
// often enough for a fast simulation's steps, never busier than every 10 ms.
func (s *Service) tickEvery() time.Duration {
	if s.sim.Speed > 1 {
		return max(10*time.Millisecond, time.Duration(float64(time.Second)/s.sim.Speed))
	}
	return time.Second
}

// Wake asks a running engine to tick now instead of at its next interval.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// nextDue is when the engine must next look at inc; zero when never.
func (s *Service) nextDue(inc *Incident) time.Time {
	if !inc.Status.Active() {
		return time.Time{}
	}
	next := inc.nextSLADeadline()
	switch {
	case inc.Tracking.Simulated:
		next = earliest(next, s.sim.nextStepAt(inc))
	case inc.Status == Created:
		next = earliest(next, inc.CreatedAt.Time)
	case inc.Status == Dispatching:
		next = earliest(next, inc.Tracking.RetryAt)
	}
	return next
}

// advance does whatever is due for inc now.
func (s *Service) advance(ctx context.Context, inc *Incident) error {
	tenant := inc.Tenant()
	updated, err := s.update(ctx, tenant, inc.ID, func(inc *Incident, t *txn) error {
		if inc.Tracking.Simulated {
			return s.sim.step(inc, t)
		}
		if inc.Status == Created {
			return t.transition(inc, Dispatching, EventDispatching, "Finding the nearest available responder")
		}
		return nil // breaches, recorded by update
	})
	if err != nil {
		return err
	}
	if updated.Status == Dispatching && !updated.Tracking.Simulated && !updated.Tracking.RetryAt.After(s.now()) {
		_, err = s.assign(ctx, updated)
	}
	return err
}

// assign gives inc the best available responder the dispatcher ranks,
// claiming it in the same transaction. With none free it schedules a retry
// and reports false.
func (s *Service) assign(ctx context.Context, inc *Incident) (bool, error) {
	tenant := inc.Tenant()
	var ranked []ResponderAssignment
	if s.dispatcher != nil {
		var err error
		if ranked, err = s.dispatcher.Rank(ctx, inc); err != nil {
			return false, fmt.Errorf("dispatch: %w", err)
		}
	}
	for _, cand := range ranked {
		_, err := s.update(ctx, tenant, inc.ID, func(inc *Incident, t *txn) error {
			if inc.Status != Dispatching {
				return errNoChange // cancelled, or assigned by another process meanwhile
			}
			a := cand
			a.AssignedAt = clock.At(t.now)
			inc.Responder = &a
			inc.Tracking.RetryAt = time.Time{}
			t.effects.Claim, t.effects.At = a.ResponderID, t.now
			return t.transition(inc, Assigned, EventAssigned, assignedMessage(a))
		})
		if errors.Is(err, ErrResponderUnavailable) {
			continue // taken since it was ranked: try the next one
		}
		return err == nil, err
	}
	_, err := s.update(ctx, tenant, inc.ID, func(inc *Incident, t *txn) error {
		if inc.Status != Dispatching {
			return errNoChange
		}
		inc.Tracking.RetryAt = t.now.Add(s.queueRetry)
		return nil
	})
	return false, err
}

// afterRelease offers a responder that inc just freed to the tenant's queue.
func (s *Service) afterRelease(ctx context.Context, inc *Incident) {
	if inc.Responder == nil || inc.Tracking.Simulated {
		return
	}
	if err := s.retryQueue(ctx, inc.Tenant()); err != nil {
		s.log.ErrorContext(ctx, "retry dispatch queue", "error", err)
	}
}

// retryQueue assigns queued incidents of tenant, most severe and oldest
// first, until one finds no free responder.
func (s *Service) retryQueue(ctx context.Context, tenant auth.Tenant) error {
	queued, err := s.store.QueuedIncidents(ctx, tenant, dueBatch)
	if err != nil {
		return err
	}
	for _, inc := range queued {
		ok, err := s.assign(ctx, inc)
		if err != nil || !ok {
			return err
		}
	}
	return nil
}

func assignedMessage(a ResponderAssignment) string {
	eta := time.Duration(a.ETASeconds * float64(time.Second)).Round(time.Second)
	return fmt.Sprintf("%s assigned, %.1f km away, ETA %s", a.Name, a.DistanceMeters/1000, eta)
}

package incident

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sety-io/sety/internal/loop"
)

// The engine moves incidents along without a request: it walks drills
// through the sandbox simulator and records SLA breaches, each when its
// time comes (Tracking.DueAt says when an incident next needs it, and the
// store finds due incidents through an index), and it sweeps the dispatch
// queue as a safety net. New live incidents never wait for it: Create
// dispatches them at once (see dispatch.go). Its whole state is in the
// store, so any process can run it, a restarted one carries on where the
// last stopped, and tests drive it with Tick and a fake clock.

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

// Run moves incidents along until ctx ends: due work at once after Wake
// and at least every tickEvery, and the dispatch queue's safety-net sweep
// every SweepEvery.
func (s *Service) Run(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		loop.Run(ctx, loop.Loop{Name: "dispatch sweep", Every: s.sweepEvery, Log: s.log}, func(ctx context.Context) (bool, error) {
			return false, s.Sweep(ctx)
		})
	}()
	loop.Run(ctx, loop.Loop{Name: "incident engine", Every: s.tickEvery(), Wake: s.wake, Log: s.log}, func(ctx context.Context) (bool, error) {
		n, err := s.Tick(ctx)
		return n == dueBatch, err
	})
	<-done
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

// nextDue is when the engine must next look at inc; zero when never. A
// queued incident is due only at its SLA deadlines: responders are offered
// to it when they become available, not by polling.
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
	}
	return next
}

// advance does whatever is due for inc now: a drill's simulated steps, a
// breach (recorded by update), or the dispatch of a live incident still in
// created (one stored before dispatch moved into Create).
func (s *Service) advance(ctx context.Context, inc *Incident) error {
	if inc.Status == Created && !inc.Tracking.Simulated {
		_, err := s.dispatchNew(ctx, inc)
		return err
	}
	_, err := s.update(ctx, inc.Tenant(), inc.ID, func(inc *Incident, t *txn) error {
		if inc.Tracking.Simulated {
			return s.sim.step(inc, t)
		}
		return nil // breaches, recorded by update
	})
	return err
}

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
// (at most every tickGap) and at least every tickEvery, and the dispatch
// queue's safety-net sweep every SweepEvery. Each round first takes its
// sweep's lease in the store (Store.Lease), so however many instances
// share the store, one at a time sweeps the due incidents and one the
// queue, instead of all of them reading and locking the same rows; an
// instance that stops gives its leases up, and one that dies loses them
// when they expire (leaseFor). Tick and Sweep themselves take no lease:
// tests call them directly.
func (s *Service) Run(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		queue := &leaseHolder{name: leaseQueue, every: s.sweepEvery}
		loop.Run(ctx, loop.Loop{Name: "dispatch sweep", Every: s.sweepEvery, Log: s.log}, func(ctx context.Context) (bool, error) {
			if held, err := s.hold(ctx, queue); err != nil || !held {
				return false, err
			}
			return false, s.Sweep(ctx)
		})
		s.release(ctx, queue)
	}()
	due := &leaseHolder{name: leaseDue, every: s.tickEvery()}
	loop.Run(ctx, loop.Loop{Name: "incident engine", Every: s.tickEvery(), Wake: s.wake, MinGap: s.tickGap(), Log: s.log}, func(ctx context.Context) (bool, error) {
		if held, err := s.hold(ctx, due); err != nil || !held {
			return false, err
		}
		n, err := s.Tick(ctx)
		return n == dueBatch, err
	})
	s.release(ctx, due)
	<-done
}

// The leases of the engine's two sweeps.
const (
	leaseDue   = "incident engine" // due incidents: SLA clocks, simulated steps, late dispatch
	leaseQueue = "dispatch sweep"  // the dispatch queue's safety net
)

// leaseFor is how long a sweep's lease runs past each renewal: three
// rounds, and at least 5 s, so a holder keeps it through a slow round, and
// another instance takes over within that long of its death.
func leaseFor(every time.Duration) time.Duration { return max(3*every, 5*time.Second) }

// leaseHolder is what one sweep of this engine knows of its lease: held
// until when, or, not held, when to ask again. Rounds come at every wake
// (a create wakes the engine), so the store is asked only when the lease
// needs renewing (a third of it is left) or, held by another instance,
// once a round period: a lease costs a write every few seconds, not one
// per create.
type leaseHolder struct {
	name       string
	every      time.Duration
	held       bool
	renewAfter time.Time // held: ask the store again from then
	askAfter   time.Time // not held: ask the store again from then
}

// hold takes or renews l's lease if it is time to, and reports whether
// this engine holds it.
func (s *Service) hold(ctx context.Context, l *leaseHolder) (bool, error) {
	now := s.now()
	switch {
	case l.held && now.Before(l.renewAfter):
		return true, nil
	case !l.held && now.Before(l.askAfter):
		return false, nil
	}
	ttl := leaseFor(l.every)
	held, err := s.store.Lease(ctx, l.name, s.owner, now, now.Add(ttl))
	if err != nil {
		l.held = false // whether it was taken is unknown: assume not, and ask at the next round
		return false, fmt.Errorf("lease %q: %w", l.name, err)
	}
	l.held, l.renewAfter, l.askAfter = held, now.Add(ttl*2/3), now.Add(l.every)
	return held, nil
}

// release gives l's lease up, if this engine holds it, so another instance
// takes the sweep over at its next round.
func (s *Service) release(ctx context.Context, l *leaseHolder) {
	if !l.held {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	now := s.now()
	if _, err := s.store.Lease(ctx, l.name, s.owner, now, now); err != nil {
		s.log.WarnContext(ctx, "incident engine: give up a lease", "lease", l.name, "error", err)
	}
	l.held = false
}

// tickEvery is how often the engine looks for due work: every second, or
// often enough for a fast simulation's steps, never busier than every 10 ms.
func (s *Service) tickEvery() time.Duration {
	if s.sim.Speed > 1 {
		return max(10*time.Millisecond, time.Duration(float64(time.Second)/s.sim.Speed))
	}
	return time.Second
}

// tickGap is the least time between two rounds of ticks: a create wakes
// the engine, and under load one round serves the creates of a gap.
func (s *Service) tickGap() time.Duration { return min(50*time.Millisecond, s.tickEvery()/2) }

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

package incident

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/outbox"
)

// Dispatch follows the work, not the queue:
//
//   - A new live incident is ranked and, when an available responder is in
//     range, assigned in the transaction that creates it; otherwise it is
//     queued (dispatching) with a timeline entry saying why. Nothing else
//     is in its way, whatever the queue's length or other tenants' load.
//   - A responder that becomes available (put on duty, or stood down by a
//     cancel or a resolve) is offered to the queued incidents within range
//     of it, most severe first, then oldest.
//   - A slow safety-net sweep offers every tenant's available responders to
//     its queue, in bounded batches, for offers a crash interrupted.
//
// A queued incident is never polled: the engine only looks at it at its SLA
// deadlines.

// DefaultDispatchRange is the farthest a responder is sent: 50 km.
const DefaultDispatchRange = 50_000.0

// DispatchRange returns the maximum dispatch distance in metres for an
// incident of category in tenant's pool. Responders farther away are never
// assigned.
type DispatchRange func(tenant auth.Tenant, category Category) float64

// offerBatch bounds how many queued incidents one offer looks at, and
// sweepResponders how many available responders a sweep offers per tenant.
const (
	offerBatch      = 20
	sweepTenants    = 100
	sweepResponders = 20
)

// rangeOf is the dispatch range of inc.
func (s *Service) rangeOf(inc *Incident) float64 { return s.dispatchRange(inc.Tenant(), inc.Category) }

// maxRange is the largest range of any category of tenant: how far a freed
// responder can reach.
func (s *Service) maxRange(tenant auth.Tenant) float64 {
	var m float64
	for _, c := range Categories {
		m = max(m, s.dispatchRange(tenant, c))
	}
	return m
}

// rank returns the dispatcher's candidates for inc that are within range.
func (s *Service) rank(ctx context.Context, inc *Incident) ([]ResponderAssignment, error) {
	if s.dispatcher == nil {
		return nil, nil
	}
	ranked, err := s.dispatcher.Rank(ctx, inc)
	if err != nil {
		return nil, fmt.Errorf("dispatch: %w", err)
	}
	limit := s.rangeOf(inc)
	inRange := ranked[:0]
	for _, c := range ranked {
		if c.DistanceMeters <= limit {
			inRange = append(inRange, c)
		}
	}
	return inRange, nil
}

// enterDispatch moves inc into dispatching and, with a candidate, on to
// assigned with the candidate claimed in the same transaction; without one
// the dispatching entry says why the incident waits.
func (t *txn) enterDispatch(inc *Incident, cand *ResponderAssignment, waiting string) error {
	msg := "Finding the nearest available responder"
	if cand == nil {
		msg = waiting
		inc.Tracking.NoneInRange = true
	}
	if err := t.transition(inc, Dispatching, EventDispatching, msg); err != nil {
		return err
	}
	if cand == nil {
		return nil
	}
	return t.assignTo(inc, *cand)
}

// assignTo gives inc the candidate and claims it.
func (t *txn) assignTo(inc *Incident, cand ResponderAssignment) error {
	cand.AssignedAt = clock.At(t.now)
	inc.Responder = &cand
	inc.Tracking.NoneInRange = false
	t.effects.Claim, t.effects.At = cand.ResponderID, t.now
	return t.transition(inc, Assigned, EventAssigned, assignedMessage(cand))
}

// waitingMessage says why a live incident waits: nobody available within
// the dispatch range. (It does not search farther to say how far the
// nearest is: a search bounded by the range is what keeps creates cheap.)
func (s *Service) waitingMessage(inc *Incident) string {
	var buf [96]byte // the message whole, so that only the string is allocated
	b := append(buf[:0], "No responder is available within the "...)
	b = appendKm(b, s.rangeOf(inc))
	return string(append(b, " dispatch range: waiting for one"...))
}

// appendKm appends m metres in kilometres as fmt's %.0f km (from 10 km on)
// or %.1f km writes it: every queued create says it, so without fmt.
func appendKm(b []byte, m float64) []byte {
	digits := 1
	if m >= 10_000 {
		digits = 0
	}
	return append(strconv.AppendFloat(b, m/1000, 'f', digits, 64), " km"...)
}

// createDispatched stores a new live incident already dispatched: in the
// transaction that creates it, it enters dispatching and, when a responder
// is available in range, is assigned with the responder claimed. A
// candidate taken meanwhile makes the next one be tried; with none left the
// incident is stored queued.
//
// Without a QueueingStore the pool is ranked before the commit and again
// after it (recheck): a responder freed in between was offered to a queue
// the incident was not yet in. With one, the queued incident is stored by
// CreateQueued, which looks at the pool in the insert's transaction, so
// nothing is missed and no second look follows. A tenant whose last create
// was queued (its responders busy, or none in range: the common case under
// load) tries that first, without ranking; one whose last create found a
// responder ranks first. CreateQueued refusing (someone is available after
// all) makes the pool be ranked anew, at most maxRanks times; then the
// incident is stored as without the capability.
//
// It returns the effects committed with the incident, whose Encoded is the
// incident's JSON as stored (nil when a recheck changed it since).
func (s *Service) createDispatched(ctx context.Context, base *Incident) (*Incident, Effects, bool, error) {
	tenant := base.Tenant()
	var ranked []ResponderAssignment
	ranks := 0
	if s.queuing == nil || s.lastAssigned.has(tenant) {
		var err error
		if ranked, err = s.rank(ctx, base); err != nil {
			return nil, Effects{}, false, err
		}
		ranks++
	}
	waiting := ""
	for i := 0; ; i++ {
		var cand *ResponderAssignment
		if i < len(ranked) {
			cand = &ranked[i]
		} else if waiting == "" {
			waiting = s.waitingMessage(base)
		}
		inc := base.forAttempt()
		// Room for its events: created, dispatching, assigned, at risk.
		t := &txn{svc: s, now: inc.CreatedAt.Time, effects: Effects{Events: make([]outbox.Event, 0, 4)}}
		if err := t.emit(inc, TypeCreated); err != nil {
			return nil, Effects{}, false, err
		}
		if err := t.enterDispatch(inc, cand, waiting); err != nil {
			return nil, Effects{}, false, err
		}
		if err := t.checkRisk(inc); err != nil {
			return nil, Effects{}, false, err
		}
		effects := t.finish(inc)
		queued := cand == nil && s.queuing != nil && ranks < maxRanks
		var stored *Incident
		var created bool
		var err error
		if queued {
			stored, created, err = s.queuing.CreateQueued(ctx, inc, effects, s.rangeOf(inc))
		} else {
			stored, created, err = s.store.CreateIncident(ctx, inc, effects)
		}
		if queued && errors.Is(err, ErrResponderAvailable) {
			// Someone in range is free (freed since the ranking, or not
			// ranked yet): rank again and start over.
			if ranked, err = s.rank(ctx, base); err != nil {
				return nil, Effects{}, false, err
			}
			ranks++
			i = -1
			continue
		}
		if errors.Is(err, ErrResponderUnavailable) && cand != nil {
			continue // taken since it was ranked: try the next one
		}
		if err != nil || !created {
			return stored, Effects{}, created, err
		}
		if s.queuing != nil {
			s.lastAssigned.put(tenant, stored.Status == Assigned)
		}
		s.notify(ctx, stored, effects.Events)
		if stored.Status == Dispatching && !queued {
			if rechecked, err := s.recheck(ctx, stored); err != nil || rechecked != stored {
				return rechecked, Effects{}, true, err
			}
		}
		return stored, effects, true, nil
	}
}

// forAttempt returns a copy of the new incident base for one attempt of
// createDispatched to store it, which must leave base as it was for the
// next attempt. An attempt only changes the incident's own fields, appends
// to its timeline and brings its SLA figures up to date in place; so those
// are the copy's own (the timeline clipped: an append copies it), and the
// texts and the metadata, which a create never writes, are base's. A full
// Clone copied them too, once per create.
func (base *Incident) forAttempt() *Incident {
	inc := *base
	inc.Timeline = slices.Clip(base.Timeline)
	if base.SLA != nil {
		sla := *base.SLA
		inc.SLA = &sla
	}
	return &inc
}

// maxRanks bounds how often one create ranks the pool when CreateQueued
// keeps finding a responder that is gone by the time it is claimed.
const maxRanks = 3

// lastAssigned is the set of tenants whose last live create found a
// responder, safe for concurrent use. It only steers which step a create
// tries first, never what it stores, and it holds at most one entry per
// tenant.
type lastAssigned struct {
	mu      sync.Mutex
	tenants map[auth.Tenant]struct{}
}

func (l *lastAssigned) has(tenant auth.Tenant) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.tenants[tenant]
	return ok
}

// put adds tenant to the set (in) or removes it.
func (l *lastAssigned) put(tenant auth.Tenant, in bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch _, ok := l.tenants[tenant]; {
	case in && !ok:
		if l.tenants == nil {
			l.tenants = map[auth.Tenant]struct{}{}
		}
		l.tenants[tenant] = struct{}{}
	case !in && ok:
		delete(l.tenants, tenant)
	}
}

// dispatchNew dispatches a live incident that is still in created (one
// stored by an older version, or by a process that stopped before
// dispatching it): the same step Create takes, as an update.
func (s *Service) dispatchNew(ctx context.Context, inc *Incident) (*Incident, error) {
	ranked, err := s.rank(ctx, inc)
	if err != nil {
		return nil, err
	}
	waiting := ""
	if len(ranked) == 0 {
		waiting = s.waitingMessage(inc)
	}
	for i := 0; ; i++ {
		var cand *ResponderAssignment
		if i < len(ranked) {
			cand = &ranked[i]
		} else if waiting == "" {
			waiting = s.waitingMessage(inc)
		}
		updated, err := s.update(ctx, inc.Tenant(), inc.ID, func(inc *Incident, t *txn) error {
			if inc.Status != Created {
				return errNoChange // dispatched by another process meanwhile
			}
			return t.enterDispatch(inc, cand, waiting)
		})
		if errors.Is(err, ErrResponderUnavailable) && cand != nil {
			continue // taken since it was ranked: try the next one
		}
		if err == nil && updated.Status == Dispatching {
			return s.recheck(ctx, updated)
		}
		return updated, err
	}
}

// recheck offers a just-queued incident the responders available now: one
// may have been freed between its ranking and its commit, and offered to a
// queue it was not yet in.
func (s *Service) recheck(ctx context.Context, inc *Incident) (*Incident, error) {
	got, err := s.assign(ctx, inc)
	if err != nil || got == "" {
		return inc, err
	}
	return s.Get(ctx, inc.Tenant(), inc.ID)
}

// assign gives a queued incident the best in-range responder available,
// claiming it in the incident's transaction, and returns who got it ("" when
// nobody in range is free or the incident is no longer queued).
func (s *Service) assign(ctx context.Context, inc *Incident) (string, error) {
	ranked, err := s.rank(ctx, inc)
	if err != nil {
		return "", err
	}
	for _, cand := range ranked {
		updated, err := s.update(ctx, inc.Tenant(), inc.ID, func(inc *Incident, t *txn) error {
			if inc.Status != Dispatching {
				return errNoChange // cancelled, or assigned by another process meanwhile
			}
			return t.assignTo(inc, cand)
		})
		if errors.Is(err, ErrResponderUnavailable) {
			continue // taken since it was ranked: try the next one
		}
		if err != nil || updated.Responder == nil || updated.Responder.ResponderID != cand.ResponderID {
			return "", err
		}
		return cand.ResponderID, nil
	}
	return "", nil
}

// offer gives the available responder r to the tenant's queue: the queued
// incidents within reach of it, most severe first, then oldest, each
// assigned its best in-range responder (r or a nearer one), until r is
// taken or the batch is done.
func (s *Service) offer(ctx context.Context, tenant auth.Tenant, r *Responder) error {
	if tenant.Env != auth.Live || r.Status != Available {
		return nil
	}
	queued, err := s.store.QueuedNear(ctx, tenant, r.Location, s.maxRange(tenant), offerBatch)
	if err != nil {
		return err
	}
	for _, inc := range queued {
		if geo.Distance(r.Location, inc.Location.Coordinates) > s.rangeOf(inc) {
			continue // within another category's range, not this one's
		}
		got, err := s.assign(ctx, inc)
		if err != nil {
			return err
		}
		if got == r.ID {
			return nil
		}
	}
	return nil
}

// afterRelease offers the responder inc just stood down to the queue.
func (s *Service) afterRelease(ctx context.Context, inc *Incident) {
	if inc.Responder == nil || inc.Tracking.Simulated || s.responders == nil {
		return
	}
	if err := s.offerByID(ctx, inc.Tenant(), inc.Responder.ResponderID); err != nil {
		s.log.ErrorContext(ctx, "offer a freed responder", "error", err)
	}
}

// offerByID offers the tenant's responder id, as it is stored now.
func (s *Service) offerByID(ctx context.Context, tenant auth.Tenant, id string) error {
	list, _, err := s.responders.ListResponders(ctx, tenant, ResponderFilter{ID: id, Limit: 1})
	if err != nil || len(list) == 0 {
		return err
	}
	return s.offer(ctx, tenant, list[0])
}

// Sweep is the queue's safety net: for every tenant with queued incidents
// it offers up to a few available responders to its queue. Offers are made
// as responders become available; a sweep only finds the pairs a crash (or
// a race between processes) left unmatched, and its work is bounded by the
// number of tenants with a queue, not the queue's length.
func (s *Service) Sweep(ctx context.Context) error {
	if s.responders == nil {
		return nil
	}
	tenants, err := s.store.QueuedTenants(ctx, sweepTenants)
	if err != nil {
		return fmt.Errorf("queued tenants: %w", err)
	}
	var errs []error
	for _, tenant := range tenants {
		free, _, err := s.responders.ListResponders(ctx, tenant, ResponderFilter{Status: Available, Limit: sweepResponders})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, r := range free {
			if err := s.offer(ctx, tenant, r); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func assignedMessage(a ResponderAssignment) string {
	return fmt.Sprintf("%s assigned, %s", a.Name, travelText(a))
}

// travelText is how far and how soon: "3.3 km away, ETA 6m41s".
func travelText(a ResponderAssignment) string {
	eta := time.Duration(a.ETASeconds * float64(time.Second)).Round(time.Second)
	return fmt.Sprintf("%.1f km away, ETA %s", a.DistanceMeters/1000, eta)
}

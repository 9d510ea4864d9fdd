package memory

import (
	"context"
	"slices"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/threat"
)

type incidentStore Store

func (m *incidentStore) CreateIncident(ctx context.Context, inc *incident.Incident, effects incident.Effects) (*incident.Incident, bool, error) {
	return m.create(ctx, inc, effects, nil)
}

// CreateQueued is incident.QueueingStore: the look at the pool happens
// under the lock every change of it takes.
func (m *incidentStore) CreateQueued(ctx context.Context, inc *incident.Incident, effects incident.Effects, withinM float64) (*incident.Incident, bool, error) {
	return m.create(ctx, inc, effects, func(s *Store) error {
		if len(s.nearestAvailable(inc.Tenant(), inc.Location.Coordinates, 1, withinM)) > 0 {
			return incident.ErrResponderAvailable
		}
		return nil
	})
}

// create inserts inc unless its idempotency key was used, after check (if
// any) lets it, under the lock.
func (m *incidentStore) create(ctx context.Context, inc *incident.Incident, effects incident.Effects, check func(*Store) error) (*incident.Incident, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	var k idemKey
	if inc.IdempotencyKey != nil {
		k = idemKey{inc.OrgID, string(inc.Environment), *inc.IdempotencyKey}
		if id, ok := s.idempotency[k]; ok {
			return s.incidents[id].Clone(), false, nil
		}
	}
	if check != nil {
		if err := check(s); err != nil {
			return nil, false, err
		}
	}
	if err := checkNew(s, s.incidents, inc.OrgID, inc.ID); err != nil {
		return nil, false, err
	}
	if err := s.checkEvents(effects.Events); err != nil {
		return nil, false, err
	}
	if err := s.applyEffects(inc.Tenant(), inc.ID, effects); err != nil {
		return nil, false, err
	}
	s.putIncident(nil, inc.Clone())
	if inc.IdempotencyKey != nil {
		s.idempotency[k] = inc.ID
	}
	s.appendEvents(effects.Events)
	return inc.Clone(), true, nil
}

func (m *incidentStore) GetIncident(ctx context.Context, tenant auth.Tenant, id string) (*incident.Incident, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	inc, err := lookup(s.incidents, tenant, id, incident.ErrNotFound)
	if err != nil {
		return nil, err
	}
	return inc.Clone(), nil
}

func (m *incidentStore) ListIncidents(ctx context.Context, tenant auth.Tenant, f incident.Filter) ([]*incident.Incident, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	items, total := s.listIncidents(tenant, f)
	return items, total, nil
}

// created is the order key of incidents: creation, then id.
func created(inc *incident.Incident) (time.Time, string) { return inc.CreatedAt.Time, inc.ID }

func matches(inc *incident.Incident, f incident.Filter) bool {
	if len(f.Statuses) > 0 && !slices.Contains(f.Statuses, inc.Status) {
		return false
	}
	if len(f.Categories) > 0 && !slices.Contains(f.Categories, inc.Category) {
		return false
	}
	if len(f.Severities) > 0 && !slices.Contains(f.Severities, inc.Severity) {
		return false
	}
	if !f.From.IsZero() && inc.CreatedAt.Before(f.From) {
		return false
	}
	if !f.To.IsZero() && inc.CreatedAt.After(f.To) {
		return false
	}
	return true
}

func (m *incidentStore) UpdateIncident(ctx context.Context, tenant auth.Tenant, id string, change func(*incident.Incident) (incident.Effects, error)) (*incident.Incident, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, err := lookup(s.incidents, tenant, id, incident.ErrNotFound)
	if err != nil {
		return nil, err
	}
	next := cur.Clone()
	effects, err := change(next)
	if err != nil {
		return nil, err
	}
	if err := s.checkEvents(effects.Events); err != nil {
		return nil, err
	}
	if err := s.applyEffects(tenant, id, effects); err != nil {
		return nil, err
	}
	// The identity of a row never changes, whatever change did.
	next.ID, next.OrgID, next.Environment, next.IdempotencyKey = cur.ID, cur.OrgID, cur.Environment, cur.IdempotencyKey
	s.putIncident(cur, next.Clone())
	s.appendEvents(effects.Events)
	return next, nil
}

func (m *incidentStore) DueIncidents(ctx context.Context, now time.Time, limit int) ([]*incident.Incident, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	due := s.activeIncidents(func(inc *incident.Incident) bool {
		d := inc.Tracking.DueAt
		return !d.IsZero() && !d.After(now)
	})
	byDue := oldestFirst(func(inc *incident.Incident) (time.Time, string) { return inc.Tracking.DueAt, inc.ID })
	return first(due, byDue, limit, (*incident.Incident).Clone), nil
}

func (m *incidentStore) QueuedNear(ctx context.Context, tenant auth.Tenant, at geo.Point, radiusM float64, limit int) ([]*incident.Incident, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	queued := s.activeIncidents(func(inc *incident.Incident) bool {
		return inc.Tenant() == tenant && queuedLive(inc) && geo.Distance(at, inc.Location.Coordinates) <= radiusM
	})
	oldest := oldestFirst(created)
	mostSevere := func(a, b *incident.Incident) int {
		if c := slices.Index(incident.Severities, b.Severity) - slices.Index(incident.Severities, a.Severity); c != 0 {
			return c
		}
		return oldest(a, b)
	}
	return first(queued, mostSevere, limit, (*incident.Incident).Clone), nil
}

func (m *incidentStore) QueuedTenants(ctx context.Context, limit int) ([]auth.Tenant, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[auth.Tenant]bool{}
	var out []auth.Tenant
	for id := range s.incidentIdx.active {
		inc := s.incidents[id]
		if t := inc.Tenant(); queuedLive(inc) && !seen[t] && len(out) < limit {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out, nil
}

// queuedLive reports whether inc is a live incident waiting for a responder.
func queuedLive(inc *incident.Incident) bool {
	return inc.Status == incident.Dispatching && !inc.IsDrill && inc.Environment == auth.Live
}

func (m *incidentStore) ThreatReports(ctx context.Context, since time.Time, fn func(threat.Report) error) (threat.Checkpoint, error) {
	if err := ctx.Err(); err != nil {
		return threat.Checkpoint{}, err
	}
	s := (*Store)(m)
	s.mu.Lock()
	// The outbox position of this view; every event has one at commit.
	checkpoint := threat.Checkpoint{Position: int64(len(s.events))}
	var reports []threat.Report
	for _, inc := range s.incidents {
		if inc.CountsAsThreat() && !inc.CreatedAt.Before(since) {
			reports = append(reports, threat.Report{At: inc.CreatedAt.Time, Location: inc.Location.Coordinates,
				Category: threat.Category(inc.Category), Severity: threat.Severity(inc.Severity)})
		}
	}
	s.mu.Unlock() // fn may take its time: the store is not held while it runs
	for _, r := range reports {
		if err := fn(r); err != nil {
			return threat.Checkpoint{}, err
		}
	}
	return checkpoint, nil
}

func (m *incidentStore) CountActive(ctx context.Context) (incident.ActiveCounts, error) {
	if err := ctx.Err(); err != nil {
		return incident.ActiveCounts{}, err
	}
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out incident.ActiveCounts
	for id := range s.incidentIdx.active {
		inc := s.incidents[id]
		out.Add(inc.Environment, inc.Status, 1)
		if queuedLive(inc) {
			out.Queued++
		}
	}
	return out, nil
}

func (m *incidentStore) Lease(ctx context.Context, name, owner string, now, until time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, taken := s.leases[name]; taken && l.owner != owner && l.until.After(now) {
		return false, nil
	}
	s.leases[name] = lease{owner: owner, until: until}
	return true, nil
}

package memory

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/threat"
)

type incidentStore Store

func (m *incidentStore) CreateIncident(ctx context.Context, inc *incident.Incident, ev outbox.Event) (*incident.Incident, bool, error) {
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
	if _, ok := s.orgs[inc.OrgID]; !ok {
		return nil, false, errNoOrg(inc.OrgID)
	}
	if _, ok := s.incidents[inc.ID]; ok {
		return nil, false, errDuplicate(inc.ID)
	}
	if err := s.checkEvents([]outbox.Event{ev}); err != nil {
		return nil, false, err
	}
	s.incidents[inc.ID] = inc.Clone()
	if inc.IdempotencyKey != nil {
		s.idempotency[k] = inc.ID
	}
	s.appendEvents([]outbox.Event{ev})
	return inc.Clone(), true, nil
}

func (m *incidentStore) GetIncident(ctx context.Context, tenant auth.Tenant, id string) (*incident.Incident, error) {
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	inc, ok := s.incidents[id]
	if !ok || inc.Tenant() != tenant {
		return nil, incident.ErrNotFound
	}
	return inc.Clone(), nil
}

func (m *incidentStore) ListIncidents(ctx context.Context, tenant auth.Tenant, f incident.Filter) ([]*incident.Incident, int, error) {
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	var match []*incident.Incident
	for _, inc := range s.incidents {
		if inc.Tenant() == tenant && matches(inc, f) {
			match = append(match, inc)
		}
	}
	slices.SortFunc(match, func(a, b *incident.Incident) int {
		if c := b.CreatedAt.Compare(a.CreatedAt.Time); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	total := len(match)
	start := min(f.Offset, total)
	end := min(start+f.Limit, total)
	page := make([]*incident.Incident, 0, end-start)
	for _, inc := range match[start:end] {
		page = append(page, inc.Clone())
	}
	return page, total, nil
}

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
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.incidents[id]
	if !ok || cur.Tenant() != tenant {
		return nil, incident.ErrNotFound
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
	s.incidents[id] = next.Clone()
	s.appendEvents(effects.Events)
	return next, nil
}

func (m *incidentStore) DueIncidents(ctx context.Context, now time.Time, limit int) ([]*incident.Incident, error) {
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	var due []*incident.Incident
	for _, inc := range s.incidents {
		if d := inc.Tracking.DueAt; inc.Status.Active() && !d.IsZero() && !d.After(now) {
			due = append(due, inc)
		}
	}
	slices.SortFunc(due, func(a, b *incident.Incident) int {
		if c := a.Tracking.DueAt.Compare(b.Tracking.DueAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return clones(due[:min(limit, len(due))]), nil
}

func (m *incidentStore) QueuedIncidents(ctx context.Context, tenant auth.Tenant, limit int) ([]*incident.Incident, error) {
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	var queued []*incident.Incident
	for _, inc := range s.incidents {
		if inc.Tenant() == tenant && inc.Status == incident.Dispatching && !inc.IsDrill {
			queued = append(queued, inc)
		}
	}
	slices.SortFunc(queued, func(a, b *incident.Incident) int {
		if c := slices.Index(incident.Severities, b.Severity) - slices.Index(incident.Severities, a.Severity); c != 0 {
			return c
		}
		if c := a.CreatedAt.Compare(b.CreatedAt.Time); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return clones(queued[:min(limit, len(queued))]), nil
}

func clones(items []*incident.Incident) []*incident.Incident {
	out := make([]*incident.Incident, len(items))
	for i, inc := range items {
		out[i] = inc.Clone()
	}
	return out
}

func (m *incidentStore) ThreatReports(ctx context.Context, since time.Time, fn func(threat.Report) error) error {
	s := (*Store)(m)
	s.mu.Lock()
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
			return err
		}
	}
	return nil
}

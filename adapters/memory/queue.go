package memory

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
	"github.com/sety-io/sety/webhook"
)

// webhookQueue is the delivery worker's port; the store's one mutex makes
// each method a transaction.
type webhookQueue Store

func (m *webhookQueue) FanOut(ctx context.Context, limit int, plan func(outbox.Event, []*webhook.Endpoint) []*webhook.Delivery) (int, error) {
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	taken := 0
	for _, ev := range s.events {
		if taken == limit {
			break
		}
		if s.published[ev.ID] {
			continue
		}
		tenant := auth.Tenant{OrgID: ev.OrgID, Env: auth.Environment(ev.Environment)}
		var endpoints []*webhook.Endpoint
		for _, e := range s.endpoints {
			if e.Tenant() == tenant && e.Status == webhook.Enabled {
				endpoints = append(endpoints, e.Clone())
			}
		}
		slices.SortFunc(endpoints, func(a, b *webhook.Endpoint) int { return strings.Compare(a.ID, b.ID) })
		for _, d := range plan(ev, endpoints) {
			s.addDelivery(d)
		}
		s.published[ev.ID] = true
		taken++
	}
	return taken, nil
}

func (m *webhookQueue) eventByID(id string) (outbox.Event, bool) {
	i, ok := m.eventAt[id]
	if !ok {
		return outbox.Event{}, false
	}
	ev := m.events[i]
	ev.Data = slices.Clone(ev.Data)
	return ev, true
}

func (m *webhookQueue) ClaimDeliveries(ctx context.Context, owner string, now, until time.Time, limit int) ([]webhook.Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var due []*delivery
	for _, d := range m.deliveries {
		e := m.endpoints[d.d.EndpointID]
		if d.d.Status == webhook.Pending && e != nil && e.Status == webhook.Enabled &&
			!d.d.NextAttemptAt.After(now) && !d.leaseUntil.After(now) {
			due = append(due, d)
		}
	}
	slices.SortFunc(due, func(a, b *delivery) int {
		if c := a.d.NextAttemptAt.Compare(b.d.NextAttemptAt.Time); c != 0 {
			return c
		}
		return a.seq - b.seq
	})
	var jobs []webhook.Job
	for _, d := range due[:min(limit, len(due))] {
		ev, ok := m.eventByID(d.d.EventID)
		if !ok {
			continue
		}
		d.leaseOwner, d.leaseUntil = owner, until
		jobs = append(jobs, webhook.Job{Delivery: d.d.Clone(), Endpoint: m.endpoints[d.d.EndpointID].Clone(), Event: ev})
	}
	return jobs, nil
}

func (m *webhookQueue) FinishAttempt(ctx context.Context, owner, id string, change func(*webhook.Delivery, *webhook.Endpoint) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.deliveries[id]
	if !ok {
		return errDeliveryNotFound
	}
	if d.leaseOwner != owner {
		return setyerr.E(setyerr.Conflict, "lease of delivery %s lost", id)
	}
	e, ok := m.endpoints[d.d.EndpointID]
	if !ok {
		return webhook.ErrEndpointNotFound
	}
	nd, ne := d.d.Clone(), e.Clone()
	if err := change(nd, ne); err != nil {
		return err
	}
	m.deliveries[id] = &delivery{d: nd, seq: d.seq}
	m.endpoints[e.ID] = ne
	return nil
}

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
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	taken := 0
	for _, ev := range s.events[s.pendingFrom():] {
		if taken == limit {
			break
		}
		if ev.ID == "" || s.published[ev.ID] { // "": purged, so published
			continue
		}
		tenant := auth.Tenant{OrgID: ev.OrgID, Env: auth.Environment(ev.Environment)}
		var endpoints []*webhook.Endpoint
		for _, e := range s.endpoints {
			if e.Tenant() == tenant {
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

// ClaimDeliveries reads the leases and, of each endpoint with room, only
// the first deliveries due: a backlog costs nothing while its endpoint has
// all the attempts it may have, and little when it has room.
func (m *webhookQueue) ClaimDeliveries(ctx context.Context, c webhook.Claim) ([]webhook.Job, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	perEndpoint, perTenant := map[string]int{}, map[auth.Tenant]int{}
	for _, d := range m.leased {
		if d.leaseUntil.After(c.Now) {
			perEndpoint[d.d.EndpointID]++
			perTenant[d.d.Tenant()]++
		}
	}
	endpointRoom := func(id string) int { return c.EndpointRoom(m.endpoints[id].Failures, perEndpoint[id]) }
	tenantRoom := func(t auth.Tenant) int { return c.TenantRoom(perTenant[t]) }
	var offers []webhook.Offer
	for id, q := range m.pending {
		e := m.endpoints[id]
		n := min(endpointRoom(id), tenantRoom(e.Tenant()), c.Limit)
		if e.Status != webhook.Enabled || e.PausedUntil.After(c.Now) || n <= 0 {
			continue
		}
		// The endpoint's n first claimable deliveries: Take needs no more.
		for _, d := range q.firsts(c.Now, n) {
			offers = append(offers, webhook.Offer{DeliveryID: d.d.ID, EndpointID: id, Tenant: e.Tenant(), Due: d.d.NextAttemptAt.Time, Inserted: int64(d.seq)})
		}
	}
	var jobs []webhook.Job
	for _, o := range c.Take(offers, endpointRoom, tenantRoom) {
		d := m.deliveries[o.DeliveryID]
		ev, ok := m.eventByID(d.d.EventID)
		if !ok {
			continue
		}
		d.leaseOwner, d.leaseUntil = c.Owner, c.Until
		m.leased[d.d.ID] = d
		jobs = append(jobs, webhook.Job{Delivery: d.d.Clone(), Endpoint: m.endpoints[d.d.EndpointID].Clone(), Event: ev})
	}
	return jobs, nil
}

func (m *webhookQueue) FinishAttempt(ctx context.Context, owner, id string, change func(*webhook.Delivery, *webhook.Endpoint) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
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
	(*Store)(m).putDelivery(&delivery{d: nd, seq: d.seq, subject: d.subject, sequence: d.sequence})
	m.endpoints[e.ID] = ne
	return nil
}

func (m *webhookQueue) UpdateEndpoints(ctx context.Context, after string, limit int, change func(*webhook.Endpoint) (bool, error)) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []string
	for id := range m.endpoints {
		if id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	ids = ids[:min(len(ids), max(0, limit))]
	changed := map[string]*webhook.Endpoint{}
	for _, id := range ids {
		e := m.endpoints[id].Clone()
		ok, err := change(e)
		if err != nil {
			return "", err
		}
		if ok {
			e.ID, e.OrgID, e.Environment = id, m.endpoints[id].OrgID, m.endpoints[id].Environment
			changed[id] = e
		}
	}
	for id, e := range changed {
		m.endpoints[id] = e
	}
	if len(ids) == 0 {
		return "", nil
	}
	return ids[len(ids)-1], nil
}

func (m *webhookQueue) PendingDeliveries(ctx context.Context) (map[string]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]int, len(m.endpoints))
	for id := range m.endpoints {
		out[id] = (*Store)(m).pendingCount(id)
	}
	return out, nil
}

// pendingCount is how many deliveries of endpoint id are pending; callers
// hold mu.
func (s *Store) pendingCount(id string) int {
	if q := s.pending[id]; q != nil {
		return len(q.byDue)
	}
	return 0
}

func (m *webhookQueue) PurgeDeliveries(ctx context.Context, before, skippedBefore time.Time, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, d := range s.deliveries {
		if n == limit {
			break
		}
		created := d.d.CreatedAt.Time
		switch d.d.Status {
		case webhook.Succeeded, webhook.Failed:
			if !created.Before(before) {
				continue
			}
		case webhook.Skipped:
			if !created.Before(skippedBefore) {
				continue
			}
		default:
			continue
		}
		s.dropDelivery(id)
		n++
	}
	return n, nil
}

func (m *webhookQueue) PurgeEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	referred := make(map[string]bool, len(s.deliveries))
	for _, d := range s.deliveries {
		referred[d.d.EventID] = true
	}
	n := 0
	// The newest event stays: Head is len(events) either way, but the SQL
	// adapters' head is the newest row.
	for i := range len(s.events) - 1 {
		if n == limit {
			break
		}
		ev := s.events[i]
		if ev.ID == "" || !s.published[ev.ID] || referred[ev.ID] || !ev.CreatedAt.Before(before) {
			continue
		}
		delete(s.eventAt, ev.ID)
		delete(s.published, ev.ID)
		// The subject's sequence stays taken (s.sequences), as it would in
		// a store that never purged: a repeated sequence is still refused.
		s.events[i] = outbox.Event{Position: ev.Position}
		n++
	}
	return n, nil
}

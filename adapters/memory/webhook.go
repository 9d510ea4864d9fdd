package memory

import (
	"context"
	"crypto/rand"
	"slices"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
	"github.com/sety-io/sety/webhook"
)

// delivery is a stored delivery with its lease and its place in its line:
// the subject and sequence of its event.
type delivery struct {
	d          *webhook.Delivery
	seq        int // insertion order: deliveries due together go in it
	subject    string
	sequence   int64
	leaseOwner string
	leaseUntil time.Time
}

// addDelivery stores d, of an event already stored; callers hold mu.
func (s *Store) addDelivery(d *webhook.Delivery) {
	s.deliverySeq++
	ev := s.events[s.eventAt[d.EventID]]
	s.putDelivery(&delivery{d: d.Clone(), seq: s.deliverySeq, subject: ev.SubjectID, sequence: ev.Sequence})
}

// putDelivery stores d and keeps the indexes the worker's claims read:
// pending deliveries by endpoint, and leased ones; callers hold mu.
func (s *Store) putDelivery(d *delivery) {
	s.dropDelivery(d.d.ID)
	s.deliveries[d.d.ID] = d
	if d.d.Status != webhook.Pending {
		return
	}
	q := s.pending[d.d.EndpointID]
	if q == nil {
		q = &endpointQueue{lines: map[string][]*delivery{}}
		s.pending[d.d.EndpointID] = q
	}
	q.add(d)
	if d.leaseOwner != "" {
		s.leased[d.d.ID] = d
	}
}

// dropDelivery removes delivery id from the store and its indexes; callers
// hold mu.
func (s *Store) dropDelivery(id string) {
	d, ok := s.deliveries[id]
	if !ok {
		return
	}
	delete(s.deliveries, id)
	delete(s.leased, id)
	if q := s.pending[d.d.EndpointID]; q != nil && d.d.Status == webhook.Pending {
		q.remove(d)
		if len(q.byDue) == 0 {
			delete(s.pending, d.d.EndpointID)
		}
	}
}

type webhookStore Store

var errDeliveryNotFound = setyerr.E(setyerr.NotFound, "Webhook delivery not found")

func (m *webhookStore) CreateEndpoint(ctx context.Context, e *webhook.Endpoint) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := checkNew(s, s.endpoints, e.OrgID, e.ID); err != nil {
		return err
	}
	s.endpoints[e.ID] = e.Clone()
	return nil
}

func (m *webhookStore) endpoint(tenant auth.Tenant, id string) (*webhook.Endpoint, error) {
	return lookup(m.endpoints, tenant, id, webhook.ErrEndpointNotFound)
}

func (m *webhookStore) GetEndpoint(ctx context.Context, tenant auth.Tenant, id string) (*webhook.Endpoint, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, err := m.endpoint(tenant, id)
	if err != nil {
		return nil, err
	}
	return e.Clone(), nil
}

func (m *webhookStore) PendingCounts(ctx context.Context, tenant auth.Tenant, ids []string) (map[string]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]int, len(ids))
	for _, id := range ids {
		if _, err := m.endpoint(tenant, id); err == nil {
			out[id] = (*Store)(m).pendingCount(id)
		}
	}
	return out, nil
}

func (m *webhookStore) ListEndpoints(ctx context.Context, tenant auth.Tenant, offset, limit int) ([]*webhook.Endpoint, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	match := matching(m.endpoints, func(e *webhook.Endpoint) bool { return e.Tenant() == tenant })
	byCreation := oldestFirst(func(e *webhook.Endpoint) (time.Time, string) { return e.CreatedAt.Time, e.ID })
	items, total := page(match, byCreation, offset, limit, (*webhook.Endpoint).Clone)
	return items, total, nil
}

func (m *webhookStore) UpdateEndpoint(ctx context.Context, tenant auth.Tenant, id string, change func(*webhook.Endpoint) error) (*webhook.Endpoint, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.updateEndpoint(tenant, id, change)
}

func (m *webhookStore) ResumeEndpoint(ctx context.Context, tenant auth.Tenant, id string, since, now time.Time, change func(*webhook.Endpoint) error) (*webhook.Endpoint, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	wasDisabled := false
	if cur, err := m.endpoint(tenant, id); err == nil {
		wasDisabled = cur.Status == webhook.Disabled
	}
	e, err := m.updateEndpoint(tenant, id, change)
	if err != nil || !wasDisabled || e.Status != webhook.Enabled {
		return e, err
	}
	for _, d := range m.deliveries {
		if d.d.EndpointID == id && d.d.Status == webhook.Skipped && !d.d.CreatedAt.Before(since) {
			nd := *d
			nd.d = d.d.Clone()
			nd.d.Status, nd.d.NextAttemptAt = webhook.Pending, clock.At(now)
			(*Store)(m).putDelivery(&nd)
		}
	}
	return e, nil
}

// updateEndpoint is UpdateEndpoint; callers hold mu.
func (m *webhookStore) updateEndpoint(tenant auth.Tenant, id string, change func(*webhook.Endpoint) error) (*webhook.Endpoint, error) {
	cur, err := m.endpoint(tenant, id)
	if err != nil {
		return nil, err
	}
	next := cur.Clone()
	if err := change(next); err != nil {
		return nil, err
	}
	next.ID, next.OrgID, next.Environment = cur.ID, cur.OrgID, cur.Environment
	m.endpoints[id] = next.Clone()
	return next, nil
}

func (m *webhookStore) SecretKey(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.secretKey == nil {
		m.secretKey = make([]byte, 32)
		if _, err := rand.Read(m.secretKey); err != nil {
			m.secretKey = nil
			return nil, err
		}
	}
	return slices.Clone(m.secretKey), nil
}

func (m *webhookStore) DeleteEndpoint(ctx context.Context, tenant auth.Tenant, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.endpoint(tenant, id); err != nil {
		return err
	}
	delete(m.endpoints, id)
	for did, d := range m.deliveries {
		if d.d.EndpointID == id {
			(*Store)(m).dropDelivery(did)
		}
	}
	return nil
}

func (m *webhookStore) AddDelivery(ctx context.Context, ev outbox.Event, d *webhook.Delivery) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := m.endpoint(d.Tenant(), d.EndpointID); err != nil {
		return err
	}
	if _, ok := s.deliveries[d.ID]; ok {
		return errDuplicate(d.ID)
	}
	if err := s.checkEvents([]outbox.Event{ev}); err != nil {
		return err
	}
	s.appendEvents([]outbox.Event{ev})
	s.published[ev.ID] = true
	s.addDelivery(d)
	return nil
}

func (m *webhookStore) ListDeliveries(ctx context.Context, tenant auth.Tenant, endpointID, status string, offset, limit int) ([]*webhook.Delivery, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var match []*webhook.Delivery
	for _, d := range m.deliveries {
		if d.d.Tenant() == tenant && d.d.EndpointID == endpointID && (status == "" || d.d.Status == status) {
			match = append(match, d.d)
		}
	}
	newest := newestFirst(func(d *webhook.Delivery) (time.Time, string) { return d.CreatedAt.Time, d.ID })
	items, total := page(match, newest, offset, limit, (*webhook.Delivery).Clone)
	return items, total, nil
}

func (m *webhookStore) GetDelivery(ctx context.Context, tenant auth.Tenant, endpointID, id string) (*webhook.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.deliveries[id]
	if !ok || d.d.Tenant() != tenant || d.d.EndpointID != endpointID {
		return nil, errDeliveryNotFound
	}
	return d.d.Clone(), nil
}

func (m *webhookStore) InsertDelivery(ctx context.Context, d *webhook.Delivery) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.endpoint(d.Tenant(), d.EndpointID); err != nil {
		return err
	}
	if _, ok := m.deliveries[d.ID]; ok {
		return errDuplicate(d.ID)
	}
	if _, ok := m.eventAt[d.EventID]; !ok {
		return setyerr.E(setyerr.NotFound, "event %s not found", d.EventID)
	}
	(*Store)(m).addDelivery(d)
	return nil
}

package memory

import (
	"context"
	"math"
	"slices"
	"strings"

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

// line is one endpoint's deliveries of one subject, which go out one at a
// time in sequence order.
type line struct{ endpoint, subject string }

// earlier reports whether a goes before b in their line.
func earlier(a, b *delivery) bool {
	return a.sequence < b.sequence || a.sequence == b.sequence && a.seq < b.seq
}

// byDue orders claimable deliveries by due time, then insertion.
func byDue(a, b *delivery) int {
	if c := a.d.NextAttemptAt.Compare(b.d.NextAttemptAt.Time); c != 0 {
		return c
	}
	return a.seq - b.seq
}

// roundRobin merges groups (each in its order) by rank within the group,
// then by due time: the first of every group, then the second... It keeps
// at most room(group) of each group.
func roundRobin[K comparable](groups map[K][]*delivery, room func(K) int) []*delivery {
	type ranked struct {
		d    *delivery
		rank int
	}
	var all []ranked
	for k, ds := range groups {
		for i, d := range ds[:min(len(ds), max(0, room(k)))] {
			all = append(all, ranked{d, i})
		}
	}
	slices.SortFunc(all, func(a, b ranked) int {
		if a.rank != b.rank {
			return a.rank - b.rank
		}
		return byDue(a.d, b.d)
	})
	out := make([]*delivery, len(all))
	for i, r := range all {
		out[i] = r.d
	}
	return out
}

func (m *webhookQueue) ClaimDeliveries(ctx context.Context, c webhook.Claim) ([]webhook.Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	// What is in flight (unexpired leases), and the first of every line.
	perEndpoint, perTenant := map[string]int{}, map[auth.Tenant]int{}
	busy, first := map[line]bool{}, map[line]*delivery{}
	for _, d := range m.pending {
		l := line{d.d.EndpointID, d.subject}
		if d.leaseUntil.After(c.Now) {
			perEndpoint[d.d.EndpointID]++
			perTenant[d.d.Tenant()]++
			busy[l] = true
		}
		if f := first[l]; f == nil || earlier(d, f) {
			first[l] = d
		}
	}
	offers := map[string][]*delivery{}
	for l, d := range first {
		e := m.endpoints[l.endpoint]
		if busy[l] || e == nil || e.Status != webhook.Enabled || e.PausedUntil.After(c.Now) || d.d.NextAttemptAt.After(c.Now) {
			continue
		}
		offers[l.endpoint] = append(offers[l.endpoint], d)
	}
	byTenant := map[auth.Tenant]map[string][]*delivery{}
	for id, ds := range offers {
		slices.SortFunc(ds, byDue)
		t := m.endpoints[id].Tenant()
		if byTenant[t] == nil {
			byTenant[t] = map[string][]*delivery{}
		}
		byTenant[t][id] = ds
	}
	picks := map[auth.Tenant][]*delivery{}
	for t, endpoints := range byTenant {
		picks[t] = roundRobin(endpoints, func(id string) int {
			limit := c.PerEndpoint
			if c.ProbeAfter > 0 && m.endpoints[id].Failures >= c.ProbeAfter {
				limit = 1
			}
			return capRoom(limit, perEndpoint[id])
		})
	}
	chosen := roundRobin(picks, func(t auth.Tenant) int { return capRoom(c.PerTenant, perTenant[t]) })
	var jobs []webhook.Job
	for _, d := range chosen[:min(c.Limit, len(chosen))] {
		ev, ok := m.eventByID(d.d.EventID)
		if !ok {
			continue
		}
		d.leaseOwner, d.leaseUntil = c.Owner, c.Until
		jobs = append(jobs, webhook.Job{Delivery: d.d.Clone(), Endpoint: m.endpoints[d.d.EndpointID].Clone(), Event: ev})
	}
	return jobs, nil
}

// capRoom is how many more leases a cap leaves when used are held; a cap of
// zero or less is none.
func capRoom(limit, used int) int {
	if limit <= 0 {
		return math.MaxInt
	}
	return limit - used
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
	(*Store)(m).putDelivery(&delivery{d: nd, seq: d.seq, subject: d.subject, sequence: d.sequence})
	m.endpoints[e.ID] = ne
	return nil
}

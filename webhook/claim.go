package webhook

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/sety-io/sety/auth"
)

// This file is for adapters: the arithmetic of a Claim, so every adapter
// takes the same deliveries in the same order (Queue.ClaimDeliveries).

// EndpointRoom is how many more leases the claim may give an endpoint that
// holds leased unexpired leases and has failed failures attempts in a row
// (one at a time from ProbeAfter failures on). Without a cap it is
// math.MaxInt.
func (c Claim) EndpointRoom(failures, leased int) int {
	limit := c.PerEndpoint
	if c.ProbeAfter > 0 && failures >= c.ProbeAfter {
		limit = 1
	}
	return room(limit, leased)
}

// TenantRoom is how many more leases the claim may give the endpoints of a
// tenant that holds leased unexpired leases.
func (c Claim) TenantRoom(leased int) int { return room(c.PerTenant, leased) }

func room(limit, used int) int {
	if limit <= 0 {
		return math.MaxInt
	}
	return max(0, limit-used)
}

// An Offer is a delivery an adapter found claimable (the first of its
// line, due, not leased, of an enabled, unpaused endpoint), with what the
// claim's order needs.
type Offer struct {
	DeliveryID string
	EndpointID string
	Tenant     auth.Tenant
	Due        time.Time // NextAttemptAt
	Inserted   int64     // insertion order: unique, increasing
}

// Take returns the offers a claim takes, in the order it takes them, as
// Queue.ClaimDeliveries describes: each endpoint's offers by (Due,
// Inserted), at most its room (endpointRoom); each tenant's endpoints
// round-robin, at most the tenant's room (tenantRoom); tenants round-robin;
// at most c.Limit in all. An adapter may pass an endpoint's first offers
// only, as long as it passes at least its room of them.
func (c Claim) Take(offers []Offer, endpointRoom func(endpointID string) int, tenantRoom func(auth.Tenant) int) []Offer {
	byDue := func(a, b Offer) int { return cmp.Or(a.Due.Compare(b.Due), cmp.Compare(a.Inserted, b.Inserted)) }
	type ranked struct {
		Offer
		rank int
	}
	// Each endpoint's k-th offer (by due, within its room) is in round k;
	// a tenant takes its endpoints' offers round by round, by due within a
	// round, and its k-th pick (within its room) is in round k of the claim.
	offers = slices.Clone(offers)
	slices.SortFunc(offers, byDue)
	perEndpoint := map[string]int{}
	var rounds []ranked
	for _, o := range offers {
		if n := perEndpoint[o.EndpointID]; n < endpointRoom(o.EndpointID) {
			rounds = append(rounds, ranked{o, n})
			perEndpoint[o.EndpointID]++
		}
	}
	slices.SortStableFunc(rounds, func(a, b ranked) int { return cmp.Compare(a.rank, b.rank) })
	perTenant := map[auth.Tenant]int{}
	var picks []ranked
	for _, r := range rounds {
		if n := perTenant[r.Tenant]; n < tenantRoom(r.Tenant) {
			picks = append(picks, ranked{r.Offer, n})
			perTenant[r.Tenant]++
		}
	}
	slices.SortFunc(picks, func(a, b ranked) int { return cmp.Or(cmp.Compare(a.rank, b.rank), byDue(a.Offer, b.Offer)) })
	out := make([]Offer, 0, min(len(picks), max(0, c.Limit)))
	for _, p := range picks[:cap(out)] {
		out = append(out, p.Offer)
	}
	return out
}

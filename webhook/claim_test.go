package webhook

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
)

func TestBreakerPauseDoublesToItsMaximum(t *testing.T) {
	b := Breaker{After: 5, Pause: 10 * time.Second, MaxPause: 10 * time.Minute}
	var got []time.Duration
	for f := 3; f <= 13; f++ {
		got = append(got, b.pause(f))
	}
	want := "[0s 0s 10s 20s 40s 1m20s 2m40s 5m20s 10m0s 10m0s 10m0s]"
	if fmt.Sprint(got) != want {
		t.Fatalf("pauses after 3..13 failures: %v, want %v", got, want)
	}
	if p := b.pause(1 << 30); p != 10*time.Minute {
		t.Fatalf("after very many failures: %v", p)
	}
}

func TestClaimRooms(t *testing.T) {
	c := Claim{PerEndpoint: 4, PerTenant: 16, ProbeAfter: 5}
	for _, tc := range []struct{ failures, leased, want int }{{0, 0, 4}, {4, 3, 1}, {0, 4, 0}, {0, 9, 0}, {5, 0, 1}, {9, 1, 0}} {
		if got := c.EndpointRoom(tc.failures, tc.leased); got != tc.want {
			t.Errorf("EndpointRoom(%d, %d) = %d, want %d", tc.failures, tc.leased, got, tc.want)
		}
	}
	if got := (Claim{}).EndpointRoom(100, 100); got != math.MaxInt {
		t.Errorf("no caps: %d", got)
	}
	if got := c.TenantRoom(20); got != 0 {
		t.Errorf("TenantRoom over the cap: %d", got)
	}
}

// Take goes round-robin over tenants, then over a tenant's endpoints, by
// due time within a round, within each one's room.
func TestTakeIsRoundRobin(t *testing.T) {
	a, b := auth.Tenant{OrgID: "org_a", Env: auth.Live}, auth.Tenant{OrgID: "org_b", Env: auth.Live}
	t0 := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	var offers []Offer
	add := func(endpoint string, tenant auth.Tenant, n int, due time.Time) {
		for range n {
			offers = append(offers, Offer{DeliveryID: fmt.Sprintf("%s%d", endpoint, len(offers)), EndpointID: endpoint, Tenant: tenant, Due: due, Inserted: int64(len(offers))})
		}
	}
	add("big", a, 10, t0)
	add("late", a, 2, t0.Add(time.Second))
	add("b", b, 3, t0.Add(2*time.Second))
	rooms := map[string]int{"big": 3, "late": 9, "b": 9}
	took := Claim{Limit: 7}.Take(offers, func(id string) int { return rooms[id] }, func(auth.Tenant) int { return math.MaxInt })
	var got []string
	for _, o := range took {
		got = append(got, o.EndpointID)
	}
	// Tenant a's picks: big, late, big, late, big; tenant b's: b, b, b.
	if want := "[big b late b big b late]"; fmt.Sprint(got) != want {
		t.Fatalf("took %v, want %v", got, want)
	}
	took = Claim{Limit: 100}.Take(offers, func(id string) int { return rooms[id] }, func(t auth.Tenant) int { return map[auth.Tenant]int{a: 2, b: 1}[t] })
	got = got[:0]
	for _, o := range took {
		got = append(got, o.EndpointID)
	}
	if want := "[big b late]"; fmt.Sprint(got) != want {
		t.Fatalf("with tenant rooms 2 and 1: took %v, want %v", got, want)
	}
}

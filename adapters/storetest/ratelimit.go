package storetest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/ports"
)

// RateLimited is what an adapter implements to share the rate limit among
// every instance over its database (sety.New uses it when present).
type RateLimited = ports.RateLeases

// TestRateLimits checks an adapter's store of rate-limit leases: the
// counting and granting rule (auth.LeaseRequest.Grant) over the window,
// ends that give back unused slots and never raise a lease, tenants apart,
// exact grants under concurrent requests, and a LeaseLimiter over the store
// on an injected clock: no minute admits more than the limit, also across
// a minute's edge; a crashed instance's lease holds nothing past its
// expiry plus the window. With Features.Reopen, the same across two
// instances. Run calls it when Features.SharedRateLimits is set.
func TestRateLimits(t *testing.T, newStores NewStores, f Features) {
	if _, ok := newStores(t).(RateLimited); !ok {
		t.Fatal("Features.SharedRateLimits is set but the stores do not implement storetest.RateLimited")
	}
	t.Run("GrantRule", single(newStores, leaseGrantRule))
	t.Run("Ends", single(newStores, leaseEnds))
	t.Run("ConcurrentGrants", single(newStores, concurrentGrants))
	t.Run("SharedConcurrentGrants", shared(newStores, f, concurrentGrants))
	t.Run("LimiterWindow", single(newStores, limiterWindow))
	t.Run("SharedLimiterWindow", shared(newStores, f, limiterWindow))
	t.Run("SharedCrashedInstance", shared(newStores, f, crashedInstance))
}

func rateLeases(s Stores) auth.RateLeaseStore { return s.(RateLimited).RateLeases() }

const windowMS = int64(time.Minute / time.Millisecond)

// take asks for a lease of want slots at at, open for a second.
func take(t *testing.T, s auth.RateLeaseStore, tenant auth.Tenant, id string, at int64, want, limit int, end *auth.LeaseEnd) auth.LeaseGrant {
	t.Helper()
	g, err := s.TakeLease(context.Background(), auth.LeaseRequest{Tenant: tenant, ID: id, At: at, Until: at + 1000, Want: want, Limit: limit, End: end})
	must(t, err)
	return g
}

func wantGrant(t *testing.T, got auth.LeaseGrant, slots, free int, reset int64) {
	t.Helper()
	if want := (auth.LeaseGrant{Slots: slots, Free: free, Reset: reset}); got != want {
		t.Fatalf("grant %+v, want %+v", got, want)
	}
}

// A lease counts its slots while its last possible admission is within the
// window of a new request, and no longer; tenants are counted apart.
func leaseGrantRule(t *testing.T, handles []Stores) {
	s := rateLeases(handles[0])
	t0 := base.UnixMilli()
	// Two leases fill a limit of 60; the third is refused. The reset is
	// when the first may last admit, plus the window.
	wantGrant(t, take(t, s, tenantA, "lse_1", t0, 20, 60, nil), 20, 40, t0+999+windowMS)
	wantGrant(t, take(t, s, tenantA, "lse_2", t0+10, 50, 60, nil), 40, 0, t0+999+windowMS)
	wantGrant(t, take(t, s, tenantA, "lse_3", t0+20, 1, 60, nil), 0, 0, t0+999+windowMS)
	// Other tenants, and the other environment, have their own budget.
	wantGrant(t, take(t, s, tenantB, "lse_4", t0+20, 5, 60, nil), 5, 55, t0+20+999+windowMS)
	wantGrant(t, take(t, s, tenantATest, "lse_5", t0+20, 60, 60, nil), 60, 0, t0+20+999+windowMS)
	// The first lease counts until a window after its last possible
	// admission (t0+999), to the millisecond.
	wantGrant(t, take(t, s, tenantA, "lse_6", t0+999+windowMS-1, 60, 60, nil), 0, 0, t0+999+windowMS)
	wantGrant(t, take(t, s, tenantA, "lse_7", t0+999+windowMS, 60, 60, nil), 20, 0, t0+10+999+windowMS)
	// Refused again until the second leaves too, then the whole limit.
	wantGrant(t, take(t, s, tenantA, "lse_8", t0+10+999+windowMS, 60, 60, nil), 40, 0, t0+999+windowMS+999+windowMS)
	// A larger limit (a plan upgraded) grants what it leaves.
	wantGrant(t, take(t, s, tenantA, "lse_9", t0+10+999+windowMS, 100, 100, nil), 40, 0, t0+999+windowMS+999+windowMS)
}

// An end gives back what a lease did not use, at once; a lease that
// admitted nothing stops counting; ends are idempotent and never raise a
// lease; a request may end the tenant's previous lease in the same call.
func leaseEnds(t *testing.T, handles []Stores) {
	s := rateLeases(handles[0])
	ctx := context.Background()
	t0 := base.UnixMilli()
	take(t, s, tenantA, "lse_a", t0, 30, 60, nil)
	take(t, s, tenantA, "lse_b", t0, 30, 60, nil)
	wantGrant(t, take(t, s, tenantA, "lse_c", t0+100, 10, 60, nil), 0, 0, t0+999+windowMS)
	// lse_a admitted 5, the last at t0+300; lse_b nothing.
	must(t, rateLeases(handles[0]).EndLeases(ctx, []auth.LeaseEnd{
		{Tenant: tenantA, ID: "lse_a", Used: 5, Last: t0 + 300},
		{Tenant: tenantA, ID: "lse_b"},
	}, auth.CountedAfter(t0+400)))
	// 55 are free; lse_a now frees at t0+300 + the window.
	wantGrant(t, take(t, s, tenantA, "lse_d", t0+400, 50, 60, nil), 50, 5, t0+300+windowMS)
	// Ending lse_a again, or claiming it used more or later, changes nothing.
	must(t, s.EndLeases(ctx, []auth.LeaseEnd{
		{Tenant: tenantA, ID: "lse_a", Used: 5, Last: t0 + 300},
		{Tenant: tenantA, ID: "lse_a", Used: 30, Last: t0 + 900},
		{Tenant: tenantB, ID: "lse_d"}, // another tenant's id: not this lease
	}, auth.CountedAfter(t0+400)))
	wantGrant(t, take(t, s, tenantA, "lse_e", t0+500, 60, 60, nil), 5, 0, t0+300+windowMS)
	// A request that ends its previous lease (lse_d used 20) is granted
	// what that lease gave back, in the same call.
	end := auth.LeaseEnd{Tenant: tenantA, ID: "lse_d", Used: 20, Last: t0 + 450}
	wantGrant(t, take(t, s, tenantA, "lse_f", t0+600, 60, 60, &end), 30, 0, t0+300+windowMS)
	// Forgetting what is past the window keeps what counts.
	must(t, s.EndLeases(ctx, nil, auth.CountedAfter(t0+300+windowMS)))
	wantGrant(t, take(t, s, tenantA, "lse_g", t0+300+windowMS, 60, 60, nil), 5, 0, t0+450+windowMS)
	wantGrant(t, take(t, s, tenantA, "lse_h", t0+450+windowMS, 60, 60, nil), 20, 0, t0+500+999+windowMS)
}

// 120 concurrent requests for 7 slots each, spread over the handles,
// against a limit of 50: exactly 50 slots are granted.
func concurrentGrants(t *testing.T, handles []Stores) {
	at := base.UnixMilli()
	var granted atomic.Int32
	var wg sync.WaitGroup
	for i := range 120 {
		s := rateLeases(handles[i%len(handles)])
		wg.Go(func() {
			g, err := s.TakeLease(context.Background(), auth.LeaseRequest{Tenant: tenantA, ID: fmt.Sprintf("lse_%04d", i),
				At: at + int64(i), Until: at + int64(i) + 2000, Want: 7, Limit: 50})
			if err != nil {
				t.Error(err)
			}
			granted.Add(int32(g.Slots))
		})
	}
	wg.Wait()
	if n := granted.Load(); n != 50 {
		t.Fatalf("%d slots granted to 120 concurrent requests, want the limit of 50", n)
	}
}

// LeaseLimiters over the handles (one instance each) on one fake clock:
// bursts across a minute's edge, alternating instances, admit at most the
// limit in any minute, and at least 90 % of it.
func limiterWindow(t *testing.T, handles []Stores) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 3, 10, 14, 22, 59, 0, time.UTC))
	var limiters []*auth.LeaseLimiter
	for _, h := range handles {
		limiters = append(limiters, auth.NewLeaseLimiter(rateLeases(h), auth.LeaseConfig{Now: clk.Now}))
	}
	var admitted []time.Time
	second := 0 // where the second burst's admissions start
	// Every 10 ms for 1.6 s across 14:23:00, then every 10 ms for 2.5 s a
	// minute later, with the sweep every half second.
	for _, burst := range []struct {
		from time.Time
		n    int
	}{{clk.Now(), 160}, {clk.Now().Add(time.Minute), 250}} {
		clk.Set(burst.from)
		second = len(admitted)
		for i := range burst.n {
			if i%50 == 0 {
				for _, l := range limiters {
					must(t, l.Sweep(ctx))
				}
			}
			now := clk.Now()
			ok, remaining, reset, err := limiters[i%len(limiters)].Take(ctx, tenantA, 60, now)
			must(t, err)
			if ok {
				admitted = append(admitted, now)
			}
			if remaining < 0 || remaining > 60 || !reset.After(now) {
				t.Fatalf("request %d at %v: remaining %d, reset %v", i, now, remaining, reset)
			}
			clk.Advance(10 * time.Millisecond)
		}
	}
	for i, a := range admitted {
		j := sort.Search(len(admitted), func(k int) bool { return !admitted[k].Before(a.Add(time.Minute)) })
		if j-i > 60 {
			t.Fatalf("%d admitted in the minute from %v", j-i, a)
		}
	}
	if second < 54 || len(admitted)-second < 54 {
		t.Fatalf("%d admitted in the first burst and %d in the second, want 54 to 60 in each (limit 60)", second, len(admitted)-second)
	}
}

// An instance that takes a lease and dies (never ends it) holds its slots
// as used at its expiry, for a window, and not a moment longer.
func crashedInstance(t *testing.T, handles []Stores) {
	ctx := context.Background()
	clk := clock.NewFake(base)
	t0 := base.UnixMilli()
	// The crashed instance's lease: 15 of 20, open until t0 + 1 s.
	wantGrant(t, take(t, rateLeases(handles[0]), tenantA, "lse_crashed", t0, 15, 20, nil), 15, 5, t0+999+windowMS)
	alive := auth.NewLeaseLimiter(rateLeases(handles[1]), auth.LeaseConfig{Now: clk.Now, Length: time.Second})
	burst := func(at time.Time) (admitted int, reset time.Time) {
		t.Helper()
		clk.Set(at)
		must(t, alive.Sweep(ctx))
		for range 30 {
			ok, _, r, err := alive.Take(ctx, tenantA, 20, clk.Now())
			must(t, err)
			if !ok {
				return admitted, r
			}
			admitted++
			clk.Advance(time.Millisecond)
		}
		return admitted, time.Time{}
	}
	if n, _ := burst(base.Add(time.Millisecond)); n != 5 {
		t.Fatalf("the live instance admitted %d, want the 5 the crashed one does not hold", n)
	}
	if n, _ := burst(base.Add(30 * time.Second)); n != 0 {
		t.Fatalf("%d admitted within the minute", n)
	}
	// A minute on, the live instance's own admissions have left the
	// window (its leases ended at a sweep); the crashed lease has not.
	n, reset := burst(base.Add(time.Minute + 500*time.Millisecond))
	if crashedFree := base.Add(999*time.Millisecond + time.Minute); n != 5 || !reset.Equal(crashedFree) {
		t.Fatalf("a minute on: %d admitted, reset %v; want 5 and %v", n, reset, crashedFree)
	}
	if n, _ := burst(base.Add(999*time.Millisecond + time.Minute)); n != 15 {
		t.Fatalf("a window after the crashed lease's expiry: %d admitted, want its 15", n)
	}
}

package auth

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/sety-io/sety/clock"
)

var start = time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)

// instances returns n lease limiters (one per instance) over one store, on
// one fake clock.
func instances(n int, store RateLeaseStore, clk *clock.Fake) []*LeaseLimiter {
	ls := make([]*LeaseLimiter, n)
	for i := range ls {
		ls[i] = NewLeaseLimiter(store, LeaseConfig{Now: clk.Now})
	}
	return ls
}

// oneInstance is a limiter over a fresh store, on a fake clock.
func oneInstance() (*LeaseLimiter, *memoryLeases, *clock.Fake) {
	store, clk := newMemoryLeases(), clock.NewFake(start)
	return instances(1, store, clk)[0], store, clk
}

// sweep runs l's sweep, as Run does every quarter lease.
func sweep(t *testing.T, l *LeaseLimiter) {
	t.Helper()
	if err := l.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// arrival is a request at a time, sent to one of the instances.
type arrival struct {
	at       time.Time
	instance int
}

// replay sends the arrivals to the instances, sweeping each every quarter
// lease as Run does, and returns the times admitted. It fails the test if
// any minute admits more than limit.
func replay(t *testing.T, ls []*LeaseLimiter, clk *clock.Fake, tenant Tenant, limit int, arrivals []arrival) []time.Time {
	t.Helper()
	ctx := context.Background()
	var admitted []time.Time
	next := arrivals[0].at
	for _, a := range arrivals {
		for ; !next.After(a.at); next = next.Add(DefaultLeaseLength / 4) {
			clk.Set(next)
			for _, l := range ls {
				sweep(t, l)
			}
		}
		clk.Set(a.at)
		ok, _, _, err := ls[a.instance].Take(ctx, tenant, limit, a.at)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			admitted = append(admitted, a.at)
		}
	}
	for i, a := range admitted {
		j := sort.Search(len(admitted), func(k int) bool { return !admitted[k].Before(a.Add(Window)) })
		if j-i > limit {
			t.Fatalf("%d admitted in the minute from %v, over the limit of %d", j-i, a, limit)
		}
	}
	return admitted
}

// exactly counts what the exact in-process limiter admits of arrivals.
func exactly(limit int, arrivals []arrival) int {
	l := NewMemoryRateLimiter()
	n := 0
	for _, a := range arrivals {
		if ok, _, _, _ := l.Take(context.Background(), Tenant{}, limit, a.at); ok {
			n++
		}
	}
	return n
}

// loads are ten minutes of one tenant's requests, at a rate relative to
// its limit, spread over instances.
var loads = map[string]func(rng *rand.Rand, limit, instances int) []arrival{
	// Poisson arrivals at 1.5× the limit, each to a random instance.
	"poisson 1.5x": func(rng *rand.Rand, limit, n int) []arrival {
		var out []arrival
		mean := float64(Window) / (1.5 * float64(limit))
		for at := start; at.Before(start.Add(10 * time.Minute)); {
			at = at.Add(time.Duration(rng.ExpFloat64() * mean)).Truncate(time.Millisecond)
			out = append(out, arrival{at, rng.IntN(n)})
		}
		return out
	},
	// Evenly spaced at exactly the limit, alternating instances.
	"steady 1x":   steady(1),
	"steady 1.2x": steady(1.2),
	// A third of the limit in a third of a second every 15 s, each burst
	// to the next instance: the bursts a minute apart meet as the window
	// slides.
	"bursts": func(_ *rand.Rand, limit, n int) []arrival {
		var out []arrival
		for b := range 40 {
			for i := range limit / 3 {
				out = append(out, arrival{start.Add(time.Duration(b)*15*time.Second + time.Duration(i)*time.Millisecond), b % n})
			}
		}
		return out
	},
	// 1.2× the limit, moving to the next instance every 7 s.
	"shifting": func(_ *rand.Rand, limit, n int) []arrival {
		var out []arrival
		gap := time.Duration(float64(Window) / (1.2 * float64(limit)))
		for at := start.Add(gap); at.Before(start.Add(10 * time.Minute)); at = at.Add(gap) {
			out = append(out, arrival{at.Truncate(time.Millisecond), int(at.Sub(start)/(7*time.Second)) % n})
		}
		return out
	},
}

func steady(rate float64) func(*rand.Rand, int, int) []arrival {
	return func(_ *rand.Rand, limit, n int) []arrival {
		var out []arrival
		gap := time.Duration(float64(Window) / (rate * float64(limit)))
		for i, at := 0, start.Add(gap); at.Before(start.Add(10 * time.Minute)); i, at = i+1, at.Add(gap) {
			out = append(out, arrival{at.Truncate(time.Millisecond), i % n})
		}
		return out
	}
}

// Spread over two instances (and four), leases never admit more than the
// plan in any minute and keep at least 90 % of what an exact limiter
// admits, on every plan and load.
func TestLeasesKeepNinetyPercent(t *testing.T) {
	t.Parallel()
	for _, n := range []int{2, 4} {
		for plan, limit := range DefaultLimits() {
			for name, load := range loads {
				arrivals := load(rand.New(rand.NewPCG(1, 2)), limit, n)
				clk := clock.NewFake(start)
				got := len(replay(t, instances(n, newMemoryLeases(), clk), clk, Tenant{OrgID: "org_x", Env: Live}, limit, arrivals))
				want := exactly(limit, arrivals)
				if got*10 < want*9 {
					t.Errorf("%d instances, %s plan, %s: %d admitted, under 90%% of the exact limiter's %d", n, plan, name, got, want)
				}
			}
		}
	}
}

// 300 requests of an enterprise key in a burst take three leases (a
// twentieth of the limit, then an eighth twice), and the sweep after they
// expire gives back what is left in one write.
func TestLeasesWriteOncePerLease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l, store, clk := oneInstance()
	tenant := Tenant{OrgID: "org_x", Env: Live}
	for i := range 300 {
		if ok, remaining, _, err := l.Take(ctx, tenant, 1000, clk.Now()); err != nil || !ok || remaining != 999-i {
			t.Fatalf("request %d: admitted %v, remaining %d, %v", i, ok, remaining, err)
		}
		clk.Advance(time.Millisecond)
	}
	if store.writes != 3 {
		t.Fatalf("%d writes for 300 requests, want 3 leases", store.writes)
	}
	clk.Advance(DefaultLeaseLength)
	sweep(t, l)
	if store.writes != 4 || store.count() != 3 {
		t.Fatalf("after the sweep: %d writes and %d leases, want 4 and 3", store.writes, store.count())
	}
}

// An instance serving 200 organizations takes one lease for each in a
// burst that touches them all, however many requests each makes, and
// gives all of them back in one sweep.
func TestLeasesManyTenants(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l, store, clk := oneInstance()
	for range 10 {
		for org := range 200 {
			if ok, _, _, err := l.Take(ctx, Tenant{OrgID: fmt.Sprintf("org_%016d", org), Env: Live}, 1000, clk.Now()); err != nil || !ok {
				t.Fatalf("org %d: %v %v", org, ok, err)
			}
		}
		clk.Advance(time.Millisecond)
	}
	if store.writes != 200 {
		t.Fatalf("%d writes for 2,000 requests of 200 tenants, want a lease each", store.writes)
	}
	clk.Advance(DefaultLeaseLength)
	sweep(t, l)
	if store.writes != 201 {
		t.Fatalf("the sweep made %d writes, want one", store.writes-200)
	}
}

// Tenants far from their limit, with steady traffic, find a lease open:
// the sweep renews it before it ends, so after a tenant's first request
// none of its requests waits for the store, even at a request every 45 s
// (longer than a lease). Without the renewal a lease of such a tenant
// expires between its requests (a lease is sized for about 16 of them, up
// to 30 s): the soak's 200 tenants at a request every few seconds each saw
// one request in ten wait for a commit. A tenant that stops costs two
// leases more, then none.
func TestLeasesRenewAheadOfSlowTenants(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, clk := newMemoryLeases(), clock.NewFake(start)
	waits := 0 // what OnWait heard: the sweep's renewals are not waits
	l := NewLeaseLimiter(store, LeaseConfig{Now: clk.Now, OnWait: func() { waits++ }})
	// Four tenants, each a request every period (a sixth of a starter's
	// 60 a minute, and slower), offset, for ten minutes; the sweep every
	// quarter Length, as Run does.
	tenants := []struct {
		Tenant
		plan           Plan
		period, offset time.Duration
	}{
		{Tenant{OrgID: "org_a", Env: Live}, Starter, 10 * time.Second, 0},
		{Tenant{OrgID: "org_b", Env: Live}, Starter, 10 * time.Second, time.Second},
		{Tenant{OrgID: "org_c", Env: Test}, Starter, 45 * time.Second, 2 * time.Second},
		// Slow for five minutes, then five times faster (still a tenth of
		// its plan): its lease, sized for the slow rate, runs out of slots
		// before it expires.
		{Tenant{OrgID: "org_d", Env: Live}, Growth, 10 * time.Second, 3 * time.Second},
	}
	speedUp := start.Add(5 * time.Minute)
	waited := map[Tenant]int{}
	end := start.Add(10 * time.Minute)
	next := start
	for at := start; at.Before(end); at = at.Add(time.Second) {
		for ; !next.After(at); next = next.Add(DefaultLeaseLength / 4) {
			clk.Set(next)
			sweep(t, l)
		}
		clk.Set(at)
		for _, tn := range tenants {
			if tn.OrgID == "org_d" && !at.Before(speedUp) {
				tn.period = 2 * time.Second
			}
			if at.Sub(start)%tn.period != tn.offset%tn.period {
				continue
			}
			before := store.takes
			ok, _, _, err := l.Take(ctx, tn.Tenant, DefaultLimits()[tn.plan], at)
			if err != nil || !ok {
				t.Fatalf("%s at %v: admitted %v, %v", tn.OrgID, at.Sub(start), ok, err)
			}
			if store.takes != before {
				waited[tn.Tenant]++
			}
		}
	}
	for _, tn := range tenants {
		if waited[tn.Tenant] != 1 {
			t.Errorf("%s (a request every %v): %d of its requests waited for the store, want only its first", tn.OrgID, tn.period, waited[tn.Tenant])
		}
	}
	if waits != len(tenants) {
		t.Errorf("OnWait heard %d waits, want %d", waits, len(tenants))
	}
	// A lease at a time per tenant, of up to 30 s: about one write per
	// lease, not one per sweep.
	if store.takes > len(tenants)*(10*60/10) {
		t.Errorf("%d leases taken in ten minutes for %d tenants", store.takes, len(tenants))
	}

	// Once they stop, each renews for at most a Window, then lets its
	// lease expire, and the limiter forgets it.
	takes := store.takes
	for range 8 * 30 * 2 { // two minutes of sweeps
		clk.Advance(DefaultLeaseLength / 4)
		sweep(t, l)
	}
	if store.takes-takes > 2*len(tenants) {
		t.Errorf("idle tenants took %d more leases, want at most two each", store.takes-takes)
	}
	if n := len(l.budgets); n != 0 {
		t.Errorf("the limiter still keeps %d tenants two minutes after they stopped", n)
	}
}

// A tenant near its limit is not renewed ahead of time: its leases are
// short and small, and taking the next one before its requests need it
// would hold slots other instances could use. Its own requests take its
// leases, as before.
func TestLeasesNearTheLimitRenewWithRequests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l, store, clk := oneInstance()
	tenant := Tenant{OrgID: "org_busy", Env: Live}
	// 40 of a starter's 60 in two seconds: less than half of its budget
	// is left unleased.
	for range 40 {
		if ok, _, _, err := l.Take(ctx, tenant, DefaultLimits()[Starter], clk.Now()); err != nil || !ok {
			t.Fatalf("admitted %v, %v", ok, err)
		}
		clk.Advance(50 * time.Millisecond)
	}
	takes := store.takes
	// Every sweep of the next Length, the lease due to end within it.
	for range 3 {
		clk.Advance(DefaultLeaseLength / 4)
		sweep(t, l)
	}
	if store.takes != takes {
		t.Fatalf("the sweep took %d leases for a tenant near its limit, want none", store.takes-takes)
	}
	if ok, _, _, err := l.Take(ctx, tenant, DefaultLimits()[Starter], clk.Now()); err != nil || !ok {
		t.Fatalf("its next request: admitted %v, %v", ok, err)
	}
}

// What an instance does not use goes back: when its lease expires (the
// sweep), or at once when it releases its leases (shutdown); a second
// instance then admits it.
func TestLeasesGiveBackUnused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tenant := Tenant{OrgID: "org_x", Env: Live}
	for _, end := range []string{"expiry", "release"} {
		store := newMemoryLeases()
		clk := clock.NewFake(start)
		ls := instances(2, store, clk)
		a, b := ls[0], ls[1]
		// A's burst grows its lease to the cap: 3, 7, 7, 7 of 60.
		for range 20 {
			if ok, _, _, _ := a.Take(ctx, tenant, 60, clk.Now()); !ok {
				t.Fatal("A refused within the limit")
			}
			clk.Advance(10 * time.Millisecond)
		}
		// B takes everything else, then is refused: A holds 4 unused.
		took := 0
		for range 60 {
			if ok, _, _, _ := b.Take(ctx, tenant, 60, clk.Now()); ok {
				took++
			}
		}
		if took != 36 {
			t.Fatalf("B admitted %d of the 40 A did not use or hold, want 36", took)
		}
		switch end {
		case "expiry":
			clk.Advance(DefaultLeaseLength)
			sweep(t, a)
		case "release":
			clk.Advance(DefaultLeaseLength / 8)
			if err := a.Release(ctx); err != nil {
				t.Fatal(err)
			}
		}
		clk.Advance(DefaultLeaseLength / 4) // B's refusal is remembered this long
		took = 0
		for range 10 {
			if ok, _, _, _ := b.Take(ctx, tenant, 60, clk.Now()); ok {
				took++
			}
		}
		if took != 4 {
			t.Fatalf("after A's lease ended by %s, B admitted %d, want the 4 A did not use", end, took)
		}
	}
}

// With one instance the headers never claim more than an exact count of
// what it admitted would: Remaining is at most the limit less the
// admissions of the last minute, Reset is ahead, and a refused request's
// Reset is when a request is admitted again.
func TestLeaseHeaders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l, _, clk := oneInstance()
	tenant := Tenant{OrgID: "org_x", Env: Live}
	rng := rand.New(rand.NewPCG(5, 6))
	var refusedUntil time.Time
	var admitted []time.Time
	for range 3000 {
		clk.Advance(time.Duration(rng.ExpFloat64() * float64(400*time.Millisecond)).Truncate(time.Millisecond))
		if rng.IntN(8) == 0 {
			clk.Advance(DefaultLeaseLength / 4)
			sweep(t, l)
		}
		now := clk.Now()
		ok, remaining, reset, err := l.Take(ctx, tenant, 100, now)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			admitted = append(admitted, now)
		}
		inWindow := len(admitted) - sort.Search(len(admitted), func(i int) bool { return admitted[i].After(now.Add(-Window)) })
		switch {
		case !reset.After(now):
			t.Fatalf("at %v: reset %v is not ahead", now, reset)
		case ok && remaining > 100-inWindow:
			t.Fatalf("at %v: remaining %d, but %d were admitted in the last minute", now, remaining, inWindow)
		case ok && !now.Before(refusedUntil) && !refusedUntil.IsZero():
			refusedUntil = time.Time{}
		case ok && !refusedUntil.IsZero():
			t.Fatalf("admitted at %v, before the reset %v of a refusal", now, refusedUntil)
		case !ok && remaining != 0:
			t.Fatalf("refused at %v with remaining %d", now, remaining)
		case !ok:
			refusedUntil = reset
		}
	}
	// Refused: admitted again at the reset, not before.
	for {
		ok, _, reset, _ := l.Take(ctx, tenant, 100, clk.Now())
		if !ok {
			clk.Set(reset.Add(-time.Millisecond))
			sweep(t, l)
			if ok, _, _, _ := l.Take(ctx, tenant, 100, clk.Now()); ok {
				t.Fatalf("admitted a millisecond before the reset %v", reset)
			}
			clk.Set(reset)
			if ok, _, _, _ := l.Take(ctx, tenant, 100, clk.Now()); !ok {
				t.Fatalf("refused at the reset %v", reset)
			}
			break
		}
	}
}

// A refused tenant is refused from memory for a quarter lease: a flood of
// refused requests reads the store a few times a second, and writes
// nothing.
func TestLeaseRefusalsStayInMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l, store, clk := oneInstance()
	tenant := Tenant{OrgID: "org_x", Env: Live}
	for {
		if ok, _, _, _ := l.Take(ctx, tenant, 60, clk.Now()); !ok {
			break
		}
	}
	takes, writes := store.takes, store.writes
	for range 1000 { // a second of refused requests
		if ok, _, _, _ := l.Take(ctx, tenant, 60, clk.Now()); ok {
			t.Fatal("admitted past the limit")
		}
		clk.Advance(time.Millisecond)
	}
	if store.takes-takes > 2 || store.writes != writes {
		t.Fatalf("a second of refusals: %d store visits and %d writes, want at most 2 and none", store.takes-takes, store.writes-writes)
	}
}

// A store that fails fails the request; the lease it could not end is
// ended with the next request that reaches the store.
func TestLeaseStoreFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l, store, clk := oneInstance()
	tenant := Tenant{OrgID: "org_x", Env: Live}
	for range 3 { // the first lease: 3 of 60
		if ok, _, _, err := l.Take(ctx, tenant, 60, clk.Now()); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	store.fail = errors.New("disk full")
	if _, _, _, err := l.Take(ctx, tenant, 60, clk.Now()); !errors.Is(err, store.fail) {
		t.Fatalf("err %v, want the store's", err)
	}
	clk.Advance(DefaultLeaseLength)
	if err := l.Sweep(ctx); !errors.Is(err, store.fail) {
		t.Fatalf("sweep: %v", err)
	}
	store.fail = nil
	sweep(t, l)
	// The first lease ended with its 3 used: 57 remain.
	if ok, remaining, _, err := l.Take(ctx, tenant, 60, clk.Now()); !ok || err != nil || remaining != 56 {
		t.Fatalf("after the store recovered: %v %d %v", ok, remaining, err)
	}
}

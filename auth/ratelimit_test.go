package auth

import (
	"context"
	"math/rand/v2"
	"sort"
	"testing"
	"time"
)

// The in-process limiter is exact: no 60-second span admits more than the
// limit, a steady client at exactly the limit is never refused, and the
// reset says when a request fits again.
func TestMemoryRateLimiter(t *testing.T) {
	ctx := context.Background()
	l := NewMemoryRateLimiter()
	tenant := Tenant{OrgID: "org_0000000000000001", Env: Live}
	start := time.Date(2026, 3, 10, 14, 0, 59, 0, time.UTC)

	// A burst just before a minute's edge and another just after: a fixed
	// window admitted 120 in 1.4 s; the sliding window admits 60.
	admitted := 0
	for i := range 240 {
		at := start.Add(time.Duration(i) * 6 * time.Millisecond) // 1.44 s in all
		if ok, _, _, err := l.Take(ctx, tenant, 60, at); err != nil {
			t.Fatal(err)
		} else if ok {
			admitted++
		}
	}
	if admitted != 60 {
		t.Fatalf("%d admitted across a minute's edge, want 60", admitted)
	}
	ok, remaining, reset, _ := l.Take(ctx, tenant, 60, start.Add(30*time.Second))
	if ok || remaining != 0 || !reset.Equal(start.Add(time.Minute)) {
		t.Fatalf("full: ok %v remaining %d reset %v, want refused until %v", ok, remaining, reset, start.Add(time.Minute))
	}
	if ok, _, _, _ := l.Take(ctx, tenant, 60, start.Add(time.Minute)); !ok {
		t.Fatal("refused once the oldest admission left the window")
	}

	// Random traffic: every span [t, t+60 s) holds at most the limit.
	other := Tenant{OrgID: "org_0000000000000002", Env: Live}
	rng := rand.New(rand.NewPCG(3, 4))
	var times []time.Time
	at := start
	for range 3000 {
		at = at.Add(time.Duration(rng.ExpFloat64() * float64(150*time.Millisecond))).Truncate(time.Millisecond) // the store counts in ms
		if ok, _, _, err := l.Take(ctx, other, 100, at); err != nil {
			t.Fatal(err)
		} else if ok {
			times = append(times, at)
		}
	}
	for i, a := range times {
		j := sort.Search(len(times), func(k int) bool { return !times[k].Before(a.Add(time.Minute)) })
		if j-i > 100 {
			t.Fatalf("%d admitted in the minute from %v", j-i, a)
		}
	}

	// A steady client at exactly the limit is never refused.
	steady := Tenant{OrgID: "org_0000000000000003", Env: Test}
	for i := range 300 {
		if ok, _, _, _ := l.Take(ctx, steady, 60, start.Add(time.Duration(i)*time.Second)); !ok {
			t.Fatalf("request %d of a client at exactly 60/min was refused", i)
		}
	}
}

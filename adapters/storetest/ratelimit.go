package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
)

// RateLimited is what an adapter implements to share the rate limit among
// every instance over its database (sety.New uses it when present).
type RateLimited interface {
	RateStore() auth.RateStore
}

// TestRateLimits checks an adapter's shared rate-limit store: the sliding
// window (no minute admits more than the limit, also across a minute's
// edge), exact counting under concurrent requests, and — with
// Features.Reopen — one limit across instances. Run calls it when
// Features.SharedRateLimits is set.
func TestRateLimits(t *testing.T, newStores NewStores, f Features) {
	ctx := context.Background()
	if _, ok := newStores(t).(RateLimited); !ok {
		t.Fatal("Features.SharedRateLimits is set but the stores do not implement storetest.RateLimited")
	}
	rates := func(s Stores) auth.RateStore { return s.(RateLimited).RateStore() }

	t.Run("SlidingWindow", func(t *testing.T) {
		t.Parallel()
		l := auth.NewRateLimiter(rates(newStores(t)))
		edge := time.Date(2026, 3, 10, 14, 0, 59, 0, time.UTC)
		admitted := 0
		for i := range 240 { // 1.44 s across a minute's edge
			if ok, _, _, err := l.Take(ctx, tenantA, 60, edge.Add(time.Duration(i)*6*time.Millisecond)); err != nil {
				t.Fatal(err)
			} else if ok {
				admitted++
			}
		}
		if admitted != 60 {
			t.Fatalf("%d admitted across a minute's edge, want 60", admitted)
		}
		ok, remaining, reset, err := l.Take(ctx, tenantA, 60, edge.Add(59*time.Second))
		if err != nil || ok || remaining != 0 || !reset.Equal(edge.Add(time.Minute)) {
			t.Fatalf("full: ok %v remaining %d reset %v err %v, want refused until %v", ok, remaining, reset, err, edge.Add(time.Minute))
		}
		if ok, remaining, _, _ := l.Take(ctx, tenantA, 60, edge.Add(time.Minute)); !ok || remaining != 0 {
			t.Fatalf("after the oldest left: ok %v remaining %d", ok, remaining)
		}
		// Tenants are counted apart.
		if ok, remaining, _, _ := l.Take(ctx, tenantB, 60, edge.Add(time.Second)); !ok || remaining != 59 {
			t.Fatalf("another tenant: ok %v remaining %d", ok, remaining)
		}
	})

	t.Run("ConcurrentRequests", func(t *testing.T) {
		t.Parallel()
		takeConcurrently(t, []Stores{newStores(t)})
	})
	t.Run("SharedLimit", shared(newStores, f, takeConcurrently))
}

// takeConcurrently sends 120 requests of one tenant at once, spread over
// the handles, against a limit of 50: exactly 50 are admitted.
func takeConcurrently(t *testing.T, handles []Stores) {
	at := time.Date(2026, 3, 10, 14, 30, 0, 0, time.UTC)
	var admitted atomic.Int32
	var wg sync.WaitGroup
	for i := range 120 {
		l := auth.NewRateLimiter(handles[i%len(handles)].(RateLimited).RateStore())
		wg.Go(func() {
			ok, _, _, err := l.Take(context.Background(), tenantA, 50, at.Add(time.Duration(i)*time.Millisecond))
			if err != nil {
				t.Error(err)
			}
			if ok {
				admitted.Add(1)
			}
		})
	}
	wg.Wait()
	if n := admitted.Load(); n != 50 {
		t.Fatalf("%d of 120 concurrent requests admitted, want the limit of 50", n)
	}
}

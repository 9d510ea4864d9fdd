package auth

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Limits are the requests per minute of each plan (the public docs'
// figures).
var Limits = map[Plan]int{Starter: 60, Growth: 300, Enterprise: 1000}

// RateLimiter counts requests per tenant.
type RateLimiter interface {
	// Take counts one request of tenant at now against limit per minute
	// and reports whether it is allowed, how many remain and when the
	// count next goes down (X-RateLimit-Reset; Retry-After when refused).
	Take(ctx context.Context, tenant Tenant, limit int, now time.Time) (allowed bool, remaining int, reset time.Time, err error)
}

// Window is the span no more than a plan's limit of requests is admitted in:
// a request at time a is admitted when fewer than limit were admitted in
// (a − Window, a]. Any span [t, t + Window) lies within the span seen by
// its last admission, so no such span ever admits more than the limit —
// there is no double burst at a minute's edge, as a fixed window allows.
const Window = time.Minute

// RateStore keeps the times of admitted requests. A store shared by
// several servers (SQLite or PostgreSQL) makes the limit hold across all
// of them.
type RateStore interface {
	// TakeRequest admits a request of tenant at at (Unix milliseconds) if
	// fewer than limit requests were admitted in (at − 60 000, at],
	// recording it, atomically with respect to every other caller. It
	// returns whether it admitted it, how many admitted requests the span
	// holds with it, and the time of the oldest of them (at when none). It
	// may forget admissions older than the span.
	TakeRequest(ctx context.Context, tenant Tenant, at int64, limit int) (admitted bool, used int, oldest int64, err error)
}

// StoreRateLimiter enforces the sliding window over a RateStore.
type StoreRateLimiter struct{ store RateStore }

// NewRateLimiter returns the limiter over store.
func NewRateLimiter(store RateStore) *StoreRateLimiter { return &StoreRateLimiter{store: store} }

// NewMemoryRateLimiter returns a limiter that counts in this process only.
func NewMemoryRateLimiter() *StoreRateLimiter { return NewRateLimiter(newMemoryRates()) }

// Take counts one request.
func (l *StoreRateLimiter) Take(ctx context.Context, tenant Tenant, limit int, now time.Time) (bool, int, time.Time, error) {
	admitted, used, oldest, err := l.store.TakeRequest(ctx, tenant, now.UnixMilli(), limit)
	if err != nil {
		return false, 0, time.Time{}, err
	}
	// The count goes down when the oldest admission leaves the window.
	reset := time.UnixMilli(oldest).Add(Window).UTC()
	return admitted, max(0, limit-used), reset, nil
}

// memoryRates is a RateStore in this process: per tenant, the times of the
// admissions still in the window, oldest first.
type memoryRates struct {
	mu      sync.Mutex
	tenants map[Tenant][]int64
	takes   int
}

func newMemoryRates() *memoryRates { return &memoryRates{tenants: map[Tenant][]int64{}} }

func (m *memoryRates) TakeRequest(_ context.Context, tenant Tenant, at int64, limit int) (bool, int, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forgetIdle(at)
	times := m.tenants[tenant]
	// Drop what left the window; times are in admission order, which is
	// time order but for a clock stepping back, so search, don't assume.
	cut := sort.Search(len(times), func(i int) bool { return times[i] > at-Window.Milliseconds() })
	times = times[cut:]
	oldest := at
	if len(times) > 0 {
		oldest = min(times[0], at)
	}
	if len(times) >= limit {
		m.tenants[tenant] = times
		return false, len(times), oldest, nil
	}
	times = append(times, at)
	m.tenants[tenant] = times
	return true, len(times), oldest, nil
}

// forgetIdle drops, every thousand requests, the tenants with nothing in
// the window, so memory follows the active tenants.
func (m *memoryRates) forgetIdle(at int64) {
	if m.takes++; m.takes%1000 != 0 {
		return
	}
	for t, times := range m.tenants {
		if len(times) == 0 || times[len(times)-1] <= at-Window.Milliseconds() {
			delete(m.tenants, t)
		}
	}
}

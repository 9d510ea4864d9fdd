package auth

import (
	"context"
	"sort"
	"sync"
	"time"
)

// DefaultLimits are the requests per minute of each plan, the public docs'
// figures (Config.Limits). Each call returns a new map.
func DefaultLimits() map[Plan]int { return map[Plan]int{Starter: 60, Growth: 300, Enterprise: 1000} }

// RateLimiter counts requests per tenant.
type RateLimiter interface {
	// Take counts one request of tenant at now against limit per minute
	// and reports whether it is allowed, how many more may follow at
	// least (X-RateLimit-Remaining; it may be low, never high) and when
	// the count next goes down (X-RateLimit-Reset; Retry-After when
	// refused).
	Take(ctx context.Context, tenant Tenant, limit int, now time.Time) (allowed bool, remaining int, reset time.Time, err error)
}

// Window is the span no more than a plan's limit of requests is admitted in:
// a request at time a is admitted when fewer than limit were admitted in
// (a − Window, a]. Any span [t, t + Window) lies within the span seen by
// its last admission, so no such span ever admits more than the limit —
// there is no double burst at a minute's edge, as a fixed window allows.
const Window = time.Minute

// NewMemoryRateLimiter returns a limiter that counts in this process only,
// exactly: it keeps the time of every admission still in the window. It is
// what Sety uses over stores that one process owns (the memory adapter);
// stores shared by several processes lease budget instead (LeaseLimiter).
func NewMemoryRateLimiter() RateLimiter {
	return &memoryRates{tenants: map[Tenant][]int64{}}
}

// memoryRates is the exact in-process limiter: per tenant, the times
// (Unix milliseconds) of the admissions still in the window, oldest first.
type memoryRates struct {
	mu      sync.Mutex
	tenants map[Tenant][]int64
	takes   int
}

func (m *memoryRates) Take(_ context.Context, tenant Tenant, limit int, now time.Time) (bool, int, time.Time, error) {
	at := now.UnixMilli()
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
	// The count goes down when the oldest admission leaves the window.
	reset := time.UnixMilli(oldest).Add(Window).UTC()
	if len(times) >= limit {
		m.tenants[tenant] = times
		return false, 0, reset, nil
	}
	times = append(times, at)
	m.tenants[tenant] = times
	return true, limit - len(times), reset, nil
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

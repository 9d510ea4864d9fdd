package auth

import (
	"context"
	"sync"
	"time"
)

// Limits are the requests per minute of each plan (the public docs'
// figures).
var Limits = map[Plan]int{Starter: 60, Growth: 300, Enterprise: 1000}

// RateLimiter counts requests per tenant. The built-in MemoryRateLimiter
// counts in this process; servers that share their traffic implement it
// over a shared store.
type RateLimiter interface {
	// Take counts one request of tenant at now against limit per minute
	// and reports whether it is allowed, how many remain and when the
	// count resets.
	Take(ctx context.Context, tenant Tenant, limit int, now time.Time) (allowed bool, remaining int, reset time.Time, err error)
}

// MemoryRateLimiter is a fixed-window limiter: each tenant gets limit
// requests per clock minute (the window resets on the minute, as
// X-RateLimit-Reset says). Windows of idle tenants are dropped as minutes
// pass, so memory follows the active tenants.
type MemoryRateLimiter struct {
	mu     sync.Mutex
	minute int64
	counts map[Tenant]int
}

// NewMemoryRateLimiter returns an empty limiter.
func NewMemoryRateLimiter() *MemoryRateLimiter {
	return &MemoryRateLimiter{counts: map[Tenant]int{}}
}

// Take counts one request.
func (l *MemoryRateLimiter) Take(_ context.Context, tenant Tenant, limit int, now time.Time) (bool, int, time.Time, error) {
	minute := now.Unix() / 60
	reset := time.Unix((minute+1)*60, 0).UTC()
	l.mu.Lock()
	defer l.mu.Unlock()
	if minute != l.minute {
		l.minute, l.counts = minute, map[Tenant]int{}
	}
	if l.counts[tenant] >= limit {
		return false, 0, reset, nil
	}
	l.counts[tenant]++
	return true, limit - l.counts[tenant], reset, nil
}

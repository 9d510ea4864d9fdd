package auth

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sety-io/sety/clock"
)

// BenchmarkLeaseTake is the limiter's cost per admitted request, from
// parallel goroutines over 200 tenants, with the store in memory: what a
// request pays beyond the rare lease (go test ./auth -bench LeaseTake).
func BenchmarkLeaseTake(b *testing.B) {
	clk := clock.NewFake(start)
	l := NewLeaseLimiter(newMemoryLeases(), LeaseConfig{Now: clk.Now})
	tenants := make([]Tenant, 200)
	for i := range tenants {
		tenants[i] = Tenant{OrgID: fmt.Sprintf("org_%016d", i), Env: Live}
	}
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			i := n.Add(1)
			// Every tenant far below its limit: a minute's 1,000 spread thin.
			now := start.Add(time.Duration(i) * time.Microsecond * 10)
			if _, _, _, err := l.Take(ctx, tenants[i%200], 1_000_000, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}

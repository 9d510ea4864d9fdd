package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
)

// BenchmarkNearestAvailable measures the nearest-available search over
// pools of 100, 10,000 and 100,000 responders spread over a 60 km square
// around Lagos, a fifth of them busy, asking for the 5 nearest to random
// points in the same square. Every adapter runs it:
//
//	func BenchmarkNearestAvailable(b *testing.B) { storetest.BenchmarkNearestAvailable(b, newStores) }
func BenchmarkNearestAvailable(b *testing.B, newStores NewStores) {
	for _, n := range []int{100, 10_000, 100_000} {
		b.Run(fmt.Sprintf("responders=%d", n), func(b *testing.B) {
			stores := seeded(newStores)(b)
			pool := stores.ResponderStore()
			rng := rand.New(rand.NewPCG(1, uint64(n)))
			lagos := geo.NewPoint(6.5244, 3.3792)
			point := func() geo.Point {
				return geo.NewPoint(lagos.Lat()+(rng.Float64()-0.5)*60/111.2, lagos.Lng()+(rng.Float64()-0.5)*60/110.5)
			}
			ctx := context.Background()
			for i := range n {
				status := incident.Available
				if i%5 == 0 {
					status = incident.Busy
				}
				at, idle := point(), base.Add(-time.Duration(i)*time.Second)
				_, err := pool.UpdateResponder(ctx, tenantA, fmt.Sprintf("rsp_%016d", i), func(r *incident.Responder, _ bool) error {
					r.Name, r.Location, r.Status, r.IdleSince, r.UpdatedAt = "unit", at, status, clock.At(idle), clock.At(base)
					return nil
				})
				must(b, err)
			}
			queries := make([]geo.Point, 1024)
			for i := range queries {
				queries[i] = point()
			}
			i := 0
			for b.Loop() {
				got, err := pool.NearestAvailable(ctx, tenantA, queries[i%len(queries)], 5, 0)
				if err != nil || len(got) != 5 {
					b.Fatalf("got %d, %v", len(got), err)
				}
				i++
			}
		})
	}
}

package postgres_test

import (
	"context"
	"runtime"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/postgres"
	"github.com/sety-io/sety/internal/pgtest"
)

// Without pool_max_conns the pool is sized for concurrent commits, not
// pgx's 4 or one per CPU; with it, the URL decides. A caller that finds
// every connection lent out is counted, with how long it waited, and Sety
// serves both as metrics.
func TestPoolSizeAndWaits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	db := open(t, url)
	if got, _, _, _ := db.PoolStats(); got != postgres.DefaultPoolSize() || got < 16 || got < 8*runtime.GOMAXPROCS(0) {
		t.Fatalf("default pool of %d connections, want DefaultPoolSize %d", got, postgres.DefaultPoolSize())
	}
	one := open(t, url+"&pool_max_conns=1")
	if got, _, _, _ := one.PoolStats(); got != 1 {
		t.Fatalf("pool_max_conns=1 gave a pool of %d", got)
	}
	reg := prometheus.NewRegistry()
	if _, err := sety.New(one, sety.WithMetrics(reg)); err != nil {
		t.Fatal(err)
	}
	// Eight callers taking turns at one connection: most of them wait.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 25 {
				if err := one.Ping(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	_, inUse, waits, waited := one.PoolStats()
	if inUse != 0 || waits == 0 || waited <= 0 {
		t.Fatalf("after the pings: %d in use, %d waits for %v counted", inUse, waits, waited)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			if m.GetCounter() != nil {
				got[f.GetName()] = m.GetCounter().GetValue()
			} else if m.GetGauge() != nil {
				got[f.GetName()] = m.GetGauge().GetValue()
			}
		}
	}
	if got["sety_store_pool_waits_total"] != float64(waits) || got["sety_store_pool_wait_seconds_total"] != waited.Seconds() ||
		got["sety_store_pool_max_connections"] != 1 {
		t.Fatalf("pool metrics %v, want %d waits for %v", got, waits, waited)
	}
}

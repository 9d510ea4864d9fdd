package sety_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/sqlite"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/internal/cputime"
)

// BenchmarkGetIncident measures get-incident through Sety's handler (huma,
// auth, the rate limit, the read and the answer's JSON; no network) with
// the plans' rate limits on (leases from the store, as the server's
// default) and the system clock, the gets spread over 100 enterprise
// organizations' keys, one incident each, so that no plan runs out (at
// most 20,000 gets a minute: 200 of each organization's 1,000). SQLite runs
// with synchronous=NORMAL: the leases' commits are a few hundredths of the
// gets, and the fsync of each would stop this one client for milliseconds.
// ns/op, cpu-ns/op (the process's CPU: the gets', the leases' and the
// garbage collector's) and allocs/op are per get:
//
//	go test . -run '^$' -bench GetIncident -benchmem -benchtime 20000x
func BenchmarkGetIncident(b *testing.B) {
	h, targets := getBench(b)
	i, cpu := 0, cputime.Process()
	for b.Loop() {
		t := targets[i%len(targets)]
		i++
		getOnce(b, h, t)
	}
	b.ReportMetric(float64((cputime.Process()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// BenchmarkGetIncidentParallel is BenchmarkGetIncident from 32 goroutines
// at once (16 per GOMAXPROCS, two here), as a server's concurrent requests are: the
// gets that arrive together share the store's work where they can.
//
//	go test . -run '^$' -bench GetIncidentParallel -benchtime 40000x
func BenchmarkGetIncidentParallel(b *testing.B) {
	h, targets := getBench(b)
	getParallel(b, h, targets)
}

// BenchmarkGetIncidentManyKeys is BenchmarkGetIncidentParallel over 1,000
// organizations' keys, as bench/limits.sh reads the server: the key cache,
// the leases' budgets and the kept incidents then hold as many entries as
// a server with that many tenants, and a get's look-ups in them miss the
// CPU's caches as the server's do.
//
//	go test . -run '^$' -bench GetIncidentManyKeys -benchtime 40000x
func BenchmarkGetIncidentManyKeys(b *testing.B) {
	h, targets := getBenchOf(b, 1000)
	getParallel(b, h, targets)
}

// getParallel gets the targets in turn from 32 goroutines (16 per
// GOMAXPROCS) and reports the process's CPU per get.
func getParallel(b *testing.B, h *harness, targets []getTarget) {
	var next atomic.Int64
	cpu := cputime.Process()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			getOnce(b, h, targets[int(next.Add(1))%len(targets)])
		}
	})
	b.ReportMetric(float64((cputime.Process()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

type getTarget struct{ key, path string }

// getBench makes the harness of the get benchmarks and their targets: 100
// enterprise organizations' keys, one incident each.
func getBench(b *testing.B) (*harness, []getTarget) { return getBenchOf(b, 100) }

// getBenchOf is getBench with orgs organizations.
func getBenchOf(b *testing.B, orgs int) (*harness, []getTarget) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "sety.db"), &sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	h := newHarnessWith(b, db, sety.WithClock(time.Now),
		sety.WithRateLimiter(auth.NewLeaseLimiter(db.RateLeases(), auth.LeaseConfig{})))
	var targets []getTarget
	for range orgs {
		org, err := h.sety.Auth.CreateOrganization(ctx, "Bench", auth.Enterprise)
		if err != nil {
			b.Fatal(err)
		}
		key := h.key(org, auth.Live, auth.All)
		targets = append(targets, getTarget{key, "/incidents/" + create(b, h, key, sos)["incident_id"].(string)})
	}
	return h, targets
}

// getOnce gets t's incident; Errorf, not Fatalf: it runs on RunParallel's
// goroutines too.
func getOnce(b *testing.B, h *harness, t getTarget) {
	req := httptest.NewRequest(http.MethodGet, base+t.path, nil)
	req.Header.Set("Authorization", "Bearer "+t.key)
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Errorf("get: %d %s", rec.Code, rec.Body)
	}
}

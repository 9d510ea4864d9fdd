package sety_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
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
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "sety.db"), &sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	h := newHarnessWith(b, db, sety.WithClock(time.Now),
		sety.WithRateLimiter(auth.NewLeaseLimiter(db.RateLeases(), auth.LeaseConfig{})))
	type target struct{ key, path string }
	var targets []target
	for range 100 {
		org, err := h.sety.Auth.CreateOrganization(ctx, "Bench", auth.Enterprise)
		if err != nil {
			b.Fatal(err)
		}
		key := h.key(org, auth.Live, auth.All)
		targets = append(targets, target{key, "/incidents/" + create(b, h, key, sos)["incident_id"].(string)})
	}
	i, cpu := 0, cputime.Process()
	for b.Loop() {
		t := targets[i%len(targets)]
		i++
		req := httptest.NewRequest(http.MethodGet, base+t.path, nil)
		req.Header.Set("Authorization", "Bearer "+t.key)
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("get: %d %s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64((cputime.Process()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

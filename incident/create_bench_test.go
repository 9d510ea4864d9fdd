package incident_test

import (
	"context"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sety-io/sety/ids"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/cputime"
)

// BenchmarkCreateConcurrent measures the library's create alone, with no
// HTTP in front of it: 32 goroutines creating live incidents as fast as
// they are answered, with no responder on duty (each is stored in
// dispatching and queued), as bench/http.sh drives the example server. It
// reports creates a second, the process's CPU per create, the floor under
// what the server can do for the same request, and on SQLite the single
// writer's time per create (its batches, BEGIN to COMMIT). SQLite runs with
// synchronous=FULL, as the server does, and with NORMAL (no fsync at
// commit) beside it, to tell the disk's share from the CPU's; sqlite-keyed
// is FULL with an idempotency key of its own on every create, as a client
// that retries safely sends:
//
//	go test ./incident -run '^$' -bench CreateConcurrent -benchtime 20000x
func BenchmarkCreateConcurrent(b *testing.B) {
	for _, name := range []string{"memory", "sqlite", "sqlite-sync=NORMAL", "sqlite-keyed"} {
		adapter, keyed := strings.CutSuffix(name, "-keyed")
		b.Run(name, func(b *testing.B) {
			st := benchStores(b, adapter)
			ctx := context.Background()
			svc := incident.NewService(st.IncidentStore(), incident.Config{Responders: st.ResponderStore(), NewID: ids.New})
			req := incident.CreateIncidentRequest{Category: incident.Vehicle, Severity: incident.Critical,
				Location: incident.Location{Coordinates: here}}
			var keys atomic.Int64
			// The single writer's time (BEGIN to the end of COMMIT, its
			// fsync included) bounds the creates a second: it runs one
			// batch at a time, whatever the cores.
			var writerNs atomic.Int64
			if db, ok := st.(interface {
				ObserveCommits(func(int, time.Duration))
			}); ok {
				db.ObserveCommits(func(_ int, took time.Duration) { writerNs.Add(int64(took)) })
			}
			b.SetParallelism((32 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.ResetTimer()
			before, wall := cputime.Process(), time.Now()
			b.RunParallel(func(pb *testing.PB) {
				req := req
				for pb.Next() {
					if keyed { // each create with a key of its own, as a client that retries safely sends
						req.IdempotencyKey = "trip_" + strconv.FormatInt(keys.Add(1), 36)
					}
					if inc, _, err := svc.Create(ctx, live, req); err != nil || inc.Status != incident.Dispatching {
						b.Errorf("create: %v", err)
						return
					}
				}
			})
			elapsed := time.Since(wall)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "creates/s")
			b.ReportMetric(float64((cputime.Process()-before).Microseconds())/float64(b.N), "cpu-µs/create")
			if ns := writerNs.Load(); ns > 0 {
				b.ReportMetric(float64(ns)/1e3/float64(b.N), "writer-µs/create")
			}
		})
	}
}

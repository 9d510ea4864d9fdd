package sqlite

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/cputime"
)

// BenchmarkPeekMixed is gets of 1,000 kept incidents from 32 goroutines
// (16 per GOMAXPROCS), as a server's concurrent requests are, with one
// operation in every N (0: none) a change of the incident instead (this process's
// writer, group commit): the stamp checks under a mixed load, where
// commits keep changing what a check finds. cpu-ns/op is the process's
// CPU per operation, the writes' included.
//
//	go test ./adapters/sqlite -run '^$' -bench PeekMixed -benchtime 40000x
func BenchmarkPeekMixed(b *testing.B) {
	for _, every := range []int{0, 64, 4} {
		b.Run("write-every-"+strconv.Itoa(every), func(b *testing.B) { benchPeekMixed(b, every) })
	}
}

func benchPeekMixed(b *testing.B, every int) {
	ctx := context.Background()
	db, _ := openPair(b)
	const n = 1000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = createTest(b, db, i+1).ID
		peekOf(b, db, ids[i])
	}
	r := db.IncidentStore().(incident.SharedReader)
	var next atomic.Int64
	cpu := cputime.Process()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1))
			id := ids[(i*7919)%n]
			if every > 0 && i%every == 0 {
				if _, err := db.IncidentStore().UpdateIncident(ctx, testTenant, id, func(cur *incident.Incident) (incident.Effects, error) {
					cur.Title = "Changed " + strconv.Itoa(i)
					return incident.Effects{}, nil
				}); err != nil {
					b.Error(err)
				}
				continue
			}
			if _, err := r.PeekIncident(ctx, testTenant, id); err != nil {
				b.Error(err)
			}
		}
	})
	b.ReportMetric(float64((cputime.Process()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

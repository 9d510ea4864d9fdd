package sqlite

import (
	"context"
	"testing"

	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/cputime"
)

// BenchmarkPeekKeptIncident is a lone get of a kept incident in the store:
// PeekIncident with no other get to share its stamp check, as the gets of
// one client, or of an idle server, are. Each runs a check of its own: one
// read transaction on the check's connection (SQLite takes and releases a
// shared lock of its shared memory, one fcntl each, unless another
// connection of the process holds it) and the kept value. cpu-ns/op is
// the process's CPU per get.
//
//	go test ./adapters/sqlite -run '^$' -bench PeekKeptIncident -cpu 1 -benchmem
func BenchmarkPeekKeptIncident(b *testing.B) {
	ctx := context.Background()
	db, _ := openPair(b)
	inc := createTest(b, db, 1)
	peekOf(b, db, inc.ID)
	r := db.IncidentStore().(incident.SharedReader)
	checks := 0
	db.stamps.afterRead = func() { checks++ }
	cpu := cputime.Process()
	for b.Loop() {
		if _, err := r.PeekIncident(ctx, testTenant, inc.ID); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cputime.Process()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(checks)/float64(b.N), "checks/op")
}

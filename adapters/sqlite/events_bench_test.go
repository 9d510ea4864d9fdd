package sqlite

import (
	"context"
	"fmt"
	"testing"

	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/cputime"
	"github.com/sety-io/sety/outbox"
)

// BenchmarkInsertEvents measures the writer's insert of a create's two
// events (incident.created, and incident.dispatching stored as a delta
// against it), as the service makes them, 16 creates' events a write
// transaction, from one goroutine with synchronous=NORMAL: the figure is
// the statements' and the commit's CPU, with no fsync, no batch sizes that
// vary with the load, and no other work of a create (cpu-ns/op: the
// process's CPU per create's events, what a shared machine moves least).
func BenchmarkInsertEvents(b *testing.B) {
	db, tenant := benchDB(b)
	ctx := context.Background()
	h := &heard{}
	svc := incident.NewService(db.IncidentStore(), incident.Config{Responders: db.ResponderStore(), Notifier: h})
	if _, _, err := svc.Create(ctx, tenant, incident.CreateIncidentRequest{Category: incident.Vehicle, Severity: incident.Critical,
		Location: incident.Location{Coordinates: geo.Point{3.4219, 6.4281}}}); err != nil || len(h.events) != 2 {
		b.Fatalf("create: %v, %d events", err, len(h.events))
	}
	const perTx = 16
	inserts := make([]func(*writeTx) error, 0, perTx)
	b.ResetTimer()
	before := cputime.Process()
	for done := 0; done < b.N; done += perTx {
		inserts = inserts[:0]
		for i := range min(perTx, b.N-done) {
			events := make([]outbox.Event, len(h.events))
			for k, ev := range h.events {
				ev.ID, ev.SubjectID = fmt.Sprintf("evt_bench%011d_%d", done+i, k), fmt.Sprintf("inc_bench%011d", done+i)
				events[k] = ev
			}
			packed := packEvents(events) // off the writer, as a create packs them
			inserts = append(inserts, func(tx *writeTx) error { return insertPacked(ctx, tx, packed) })
		}
		if err := db.inTx(ctx, func(tx *writeTx) error {
			for _, insert := range inserts {
				if err := insert(tx); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cputime.Process()-before).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

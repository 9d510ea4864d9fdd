package sqlite

import (
	"context"
	"fmt"
	"testing"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/cputime"
	"github.com/sety-io/sety/outbox"
)

// createCapture is the incident store, noting the incident and the
// effects of the create it passes on.
type createCapture struct {
	incident.Store
	inc     incident.Incident
	effects incident.Effects
}

func (c *createCapture) CreateIncident(ctx context.Context, inc *incident.Incident, effects incident.Effects) (*incident.Incident, bool, error) {
	c.inc, c.effects = *inc, effects
	return c.Store.CreateIncident(ctx, inc, effects)
}

// BenchmarkCreateWriter measures the writer's part of a create: the
// incident's insert (its row, its indexes and its triggers) and its two
// events, 16 creates a write transaction, each in a savepoint of its own
// (nested in the writer's, as the group commit opens one per caller), with
// the batch's commit hook and COMMIT, from one goroutine with
// synchronous=NORMAL (no fsync). cpu-ns/op is the process's CPU per
// create, what a shared machine moves least; it includes deriving the
// statements' arguments, which a create does off the writer.
func BenchmarkCreateWriter(b *testing.B) {
	db, tenant := benchDB(b)
	ctx := context.Background()
	c := &createCapture{Store: db.IncidentStore()}
	svc := incident.NewService(c, incident.Config{Responders: db.ResponderStore()})
	if _, _, err := svc.Create(ctx, tenant, incident.CreateIncidentRequest{Category: incident.Vehicle, Severity: incident.Critical,
		Location: incident.Location{Coordinates: geo.Point{3.4219, 6.4281}}}); err != nil || len(c.effects.Events) != 2 {
		b.Fatalf("create: %v, %d events", err, len(c.effects.Events))
	}
	const perTx = 16
	type prepared struct {
		args   []any
		events []storedEvent
	}
	creates := make([]prepared, 0, perTx)
	b.ResetTimer()
	before := cputime.Process()
	for done := 0; done < b.N; done += perTx {
		creates = creates[:0]
		for i := range min(perTx, b.N-done) {
			inc := c.inc
			inc.ID = fmt.Sprintf("inc_bench%011d", done+i)
			values, err := sqlstore.IncidentValues(dialect{}, &inc, c.effects.Encoded)
			if err != nil {
				b.Fatal(err)
			}
			events := make([]outbox.Event, len(c.effects.Events))
			for k, ev := range c.effects.Events {
				ev.ID, ev.SubjectID = fmt.Sprintf("evt_bench%011d_%d", done+i, k), inc.ID
				events[k] = ev
			}
			// Off the writer, as a create derives them.
			creates = append(creates, prepared{sqlstore.IncidentArgs(dialect{}, &inc, values), packEvents(events)})
		}
		if err := db.inTx(ctx, func(tx *writeTx) error {
			for _, p := range creates {
				if _, err := tx.ExecContext(ctx, "SAVEPOINT c"); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, sqlstore.InsertIncident, p.args...); err != nil {
					return err
				}
				if err := insertPacked(ctx, tx, p.events); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, "RELEASE c"); err != nil {
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

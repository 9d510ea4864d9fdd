package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/pgtest"
)

// While incidents are created and changed and the sequencer folds the
// count deltas, a list total, read as the list reads it, equals a count
// of the tenant's rows in the same snapshot, every time.
func TestListTotalsExactAtEveryRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openWithOrg(t, pgtest.URL(t))
	t0, tenant := fixtureTime, fixtureTenant
	done := make(chan struct{})
	var writers sync.WaitGroup
	for w := range 4 {
		writers.Go(func() {
			for i := range 40 {
				now := clock.At(t0)
				inc := &incident.Incident{ID: fmt.Sprintf("inc_%04d%012d", w, i), Category: incident.SOS, Severity: incident.High,
					Status: incident.Dispatching, Title: "SOS", Location: incident.IncidentLocation{Coordinates: geo.NewPoint(6.5, 3.4)},
					CreatedAt: now, UpdatedAt: now, OrgID: tenant.OrgID, Environment: tenant.Env, Sequence: 1}
				if _, _, err := db.IncidentStore().CreateIncident(ctx, inc, incident.Effects{}); err != nil {
					t.Error(err)
					return
				}
				if i%3 == 0 { // a change of status: -1 and +1
					if _, err := db.IncidentStore().UpdateIncident(ctx, tenant, inc.ID, func(cur *incident.Incident) (incident.Effects, error) {
						cur.Status = incident.Cancelled
						return incident.Effects{}, nil
					}); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	var folder sync.WaitGroup
	folder.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if err := db.sequence(ctx); err != nil {
				t.Error(err)
				return
			}
		}
	})
	go func() { writers.Wait(); close(done) }()
	reads := 0
	check := func() {
		t.Helper()
		var total, counted, cancelled, cancelledCounted int64
		err := pgx.BeginTxFunc(ctx, db.pool, readTx, func(tx pgx.Tx) error {
			all := incidentList(tenant, incident.Filter{Limit: 1})
			if err := tx.QueryRow(ctx, sqlstore.Numbered(all.Total), all.TotalArgs...).Scan(&total); err != nil {
				return err
			}
			gone := incidentList(tenant, incident.Filter{Limit: 1, Statuses: []incident.Status{incident.Cancelled}})
			if err := tx.QueryRow(ctx, sqlstore.Numbered(gone.Total), gone.TotalArgs...).Scan(&cancelled); err != nil {
				return err
			}
			return tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'cancelled') FROM incidents WHERE org_id = $1 AND environment = $2`,
				tenant.OrgID, string(tenant.Env)).Scan(&counted, &cancelledCounted)
		})
		if err != nil {
			t.Fatal(err)
		}
		if total != counted || cancelled != cancelledCounted {
			t.Fatalf("read %d: total %d (cancelled %d), the rows count %d (cancelled %d)", reads, total, cancelled, counted, cancelledCounted)
		}
		reads++
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		check()
	}
	folder.Wait()
	if err := db.sequence(ctx); err != nil {
		t.Fatal(err)
	}
	check()
	var deltas int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM incident_count_deltas`).Scan(&deltas); err != nil || deltas != 0 {
		t.Fatalf("%d deltas left after the last fold (%v)", deltas, err)
	}
	t.Logf("%d reads, each exact", reads)
}

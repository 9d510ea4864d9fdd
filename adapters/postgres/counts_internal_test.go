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

// One statement that inserts several incidents writes one count delta per
// tenant and kind (migration 0026), and the fold never passes a writer
// still running: a transaction that took its id before a fold and writes
// its incident after it commits a delta below the fold's horizon, which
// the next fold still finds. The list total counts it at every read. (A
// cluster of the test's own: the horizon is the cluster's, and other
// tests' transactions would hold it back.)
func TestCountFoldFindsALateWriter(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster of its own")
	}
	t.Parallel()
	ctx := context.Background()
	_, url := pgtest.NewCluster(t, pgtest.Options{})
	db := openWithOrg(t, url)
	tenant := fixtureTenant
	newIncident := func(id string) *incident.Incident {
		now := clock.At(fixtureTime)
		return &incident.Incident{ID: id, Category: incident.SOS, Severity: incident.High, Status: incident.Dispatching, Title: "SOS",
			Location: incident.IncidentLocation{Coordinates: geo.NewPoint(6.5, 3.4)}, CreatedAt: now, UpdatedAt: now,
			OrgID: tenant.OrgID, Environment: tenant.Env, Sequence: 1}
	}
	insert := func(q querier, ids ...string) {
		t.Helper()
		cs := make([]*grouped, len(ids))
		for i, id := range ids {
			inc := newIncident(id)
			values, err := sqlstore.IncidentValues(dialect{}, inc, nil)
			if err != nil {
				t.Fatal(err)
			}
			cs[i] = &grouped{row: sqlstore.IncidentArgs(dialect{}, inc, values)}
		}
		if _, err := q.Exec(ctx, insertIncidentRows, incidentColumns(cs)...); err != nil {
			t.Fatal(err)
		}
	}
	deltas := func() (rows, sum int) {
		t.Helper()
		if err := db.pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(n), 0) FROM incident_count_deltas`).Scan(&rows, &sum); err != nil {
			t.Fatal(err)
		}
		return rows, sum
	}
	total := func() int {
		t.Helper()
		_, n, err := db.IncidentStore().ListIncidents(ctx, tenant, incident.Filter{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	insert(db.pool, "inc_a1", "inc_a2", "inc_a3")
	if rows, sum := deltas(); rows != 1 || sum != 3 {
		t.Fatalf("three incidents in one statement wrote %d deltas of %d in all, want one of 3", rows, sum)
	}

	late, err := db.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer late.Rollback(ctx)
	var lateID string
	if err := late.QueryRow(ctx, `SELECT pg_current_xact_id()::text`).Scan(&lateID); err != nil {
		t.Fatal(err)
	}
	if err := db.sequence(ctx); err != nil {
		t.Fatal(err)
	}
	if rows, _ := deltas(); rows != 0 {
		t.Fatalf("%d deltas left after a fold", rows)
	}
	var passed bool
	if err := db.pool.QueryRow(ctx, `SELECT folded > $1::text::xid8 FROM outbox_sequencer`, lateID).Scan(&passed); err != nil {
		t.Fatal(err)
	}
	if passed {
		t.Fatal("the fold's horizon passed a transaction still running")
	}
	insert(late, "inc_late")
	if err := late.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n := total(); n != 4 {
		t.Fatalf("total %d before the fold, want 4", n)
	}
	if err := db.sequence(ctx); err != nil {
		t.Fatal(err)
	}
	if rows, _ := deltas(); rows != 0 {
		t.Fatalf("the late writer's delta was not folded (%d left)", rows)
	}
	if n := total(); n != 4 {
		t.Fatalf("total %d after the fold, want 4", n)
	}
	if err := db.pool.QueryRow(ctx, `SELECT folded > $1::text::xid8 FROM outbox_sequencer`, lateID).Scan(&passed); err != nil || !passed {
		t.Fatalf("with nothing running, the fold's horizon did not pass the late writer (%v)", err)
	}
}

// The sequencer's first check and its fold read the count deltas through
// their index from the fold's horizon, never the whole table, whose heap
// holds the dead rows of every delta folded since the last vacuum
// (migration 0026). pg_stat_xact_user_tables counts the scans of the
// sequencer's run in the transaction that ran it.
func TestCountFoldNeverReadsTheWholeDeltasTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openWithOrg(t, pgtest.URL(t))
	now := clock.At(fixtureTime)
	inc := &incident.Incident{ID: "inc_fold", Category: incident.SOS, Severity: incident.High, Status: incident.Dispatching, Title: "SOS",
		Location: incident.IncidentLocation{Coordinates: geo.NewPoint(6.5, 3.4)}, CreatedAt: now, UpdatedAt: now,
		OrgID: fixtureTenant.OrgID, Environment: fixtureTenant.Env, Sequence: 1}
	if _, _, err := db.IncidentStore().CreateIncident(ctx, inc, incident.Effects{}); err != nil {
		t.Fatal(err)
	}
	var seqScans, idxScans, deleted int64
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT outbox_sequence($1, true)`, sequenceBatch); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT seq_scan, coalesce(idx_scan, 0), n_tup_del FROM pg_stat_xact_user_tables WHERE relname = 'incident_count_deltas'`).
			Scan(&seqScans, &idxScans, &deleted)
	})
	if err != nil {
		t.Fatal(err)
	}
	if seqScans != 0 || idxScans == 0 || deleted != 1 {
		t.Fatalf("a run of the sequencer scanned the deltas table %d times, its indexes %d, and folded %d deltas; want 0, some, and 1",
			seqScans, idxScans, deleted)
	}
}

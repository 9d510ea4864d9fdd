package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/adapters/storetest"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/pgtest"
	"github.com/sety-io/sety/outbox"
)

// databaseAt returns a pool on a new database with the migrations up to
// version applied, as an earlier release left it. pgtest's databases are
// copies of a template with every migration applied, so it starts from an
// empty schema.
func databaseAt(t *testing.T, version int) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, `DROP SCHEMA public CASCADE; CREATE SCHEMA public`); err != nil {
		t.Fatal(err)
	}
	if err := (&DB{pool: pool}).migrateUpTo(ctx, version); err != nil {
		t.Fatal(err)
	}
	return pool
}

// A database of the release before the incident counts (migration 10)
// upgrades with its counts taken from its incidents: list totals are right
// at once, and follow the changes after, several in one transaction
// included.
func TestUpgradeCountsExistingIncidents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := databaseAt(t, 9)
	tenant := auth.Tenant{OrgID: "org_0000000000000001", Env: auth.Live}
	at := time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)
	if _, err := pool.Exec(ctx, `INSERT INTO organizations (id, name, plan, status, created_at) VALUES ($1, 'Acme', 'growth', 'active', $2)`, tenant.OrgID, at); err != nil {
		t.Fatal(err)
	}
	for i := range 7 {
		inc := &incident.Incident{ID: fmt.Sprintf("inc_%016d", i), Category: incident.Categories[i%2], Severity: incident.High,
			Status: incident.Statuses[i%3], Title: "Old", Location: incident.IncidentLocation{Coordinates: geo.NewPoint(6.5, 3.4)},
			CreatedAt: clock.At(at), UpdatedAt: clock.At(at), OrgID: tenant.OrgID, Environment: tenant.Env, Sequence: 1}
		values, err := sqlstore.IncidentValues(dialect{}, inc, nil)
		if err != nil {
			t.Fatal(err)
		}
		args := sqlstore.IncidentArgs(dialect{}, inc, values)
		if _, err := pool.Exec(ctx, insertIncident, args...); err != nil {
			t.Fatal(err)
		}
	}

	db, err := New(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	st := db.IncidentStore()
	total := func(f incident.Filter) int {
		t.Helper()
		f.Limit = 1
		_, n, err := st.ListIncidents(ctx, tenant, f)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	created := incident.Filter{Statuses: []incident.Status{incident.Created}}
	cancelled := incident.Filter{Statuses: []incident.Status{incident.Cancelled}}
	if all, c := total(incident.Filter{}), total(created); all != 7 || c != 3 {
		t.Fatalf("after the upgrade: %d incidents, %d created; want 7 and 3", all, c)
	}
	// Two changes of one incident in one transaction count once each.
	if _, err := pool.Exec(ctx, `UPDATE incidents SET status = 'dispatching' WHERE id = 'inc_0000000000000000';
		UPDATE incidents SET status = 'cancelled' WHERE id = 'inc_0000000000000000'`); err != nil {
		t.Fatal(err)
	}
	if all, c, x := total(incident.Filter{}), total(created), total(cancelled); all != 7 || c != 2 || x != 1 {
		t.Fatalf("after a cancel: %d incidents, %d created, %d cancelled; want 7, 2 and 1", all, c, x)
	}
	if _, err := st.UpdateIncident(ctx, tenant, "inc_0000000000000003", func(c *incident.Incident) (incident.Effects, error) {
		c.Status = incident.Resolved
		return incident.Effects{}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if c := total(created); c != 1 {
		t.Fatalf("after a resolve: %d created, want 1", c)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM incidents WHERE id = 'inc_0000000000000006'`); err != nil {
		t.Fatal(err)
	}
	if all, c := total(incident.Filter{}), total(created); all != 6 || c != 0 {
		t.Fatalf("after a delete: %d incidents, %d created; want 6 and 0", all, c)
	}
}

// A database of the release before sessions recorded their key (migration
// 12) upgrades with the parent of each session it holds, read from its
// name: such a session ends with its key and is purged once ended. A key
// merely named like a session stays an API key.
func TestUpgradeFindsTheKeysOfSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := databaseAt(t, 12)
	made := storetest.LegacyKeysAt
	if _, err := pool.Exec(ctx, `INSERT INTO organizations (id, name, plan, status, created_at) VALUES ($1, 'Acme', 'growth', 'active', $2)`,
		storetest.LegacyKeysOrg, made); err != nil {
		t.Fatal(err)
	}
	for _, k := range storetest.LegacySessionKeys {
		if _, err := pool.Exec(ctx, `INSERT INTO api_keys (id, org_id, name, environment, prefix, scopes, hash, created_at, expires_at)
			VALUES ($1, $2, $3, $4, 'sety_live_0000', $5, $6, $7, $8)`, k.ID, storetest.LegacyKeysOrg, k.Name, k.Environment, k.Scopes, []byte(k.ID),
			made, at(k.ExpiresAt)); err != nil {
			t.Fatal(err)
		}
	}
	db, err := New(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	storetest.CheckLegacySessionKeys(t, db.AuthStore())
}

// A database of the release before the count deltas per statement
// (migration 26) upgrades with the deltas its row triggers wrote and no
// fold took yet: they carry no writer's id, the first fold takes them
// all, and the totals are right before and after it.
func TestUpgradeFoldsTheDeltasLeftBefore0026(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := databaseAt(t, 25)
	tenant := fixtureTenant
	seedOldIncidents(t, pool, tenant, 5, incident.Dispatching)
	if _, err := pool.Exec(ctx, `UPDATE incidents SET status = 'cancelled' WHERE id = 'inc_0000000000000000'`); err != nil {
		t.Fatal(err)
	}
	db, err := New(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	totals := func() (all, cancelled int) {
		t.Helper()
		_, all, err := db.IncidentStore().ListIncidents(ctx, tenant, incident.Filter{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		_, cancelled, err = db.IncidentStore().ListIncidents(ctx, tenant, incident.Filter{Limit: 1, Statuses: []incident.Status{incident.Cancelled}})
		if err != nil {
			t.Fatal(err)
		}
		return all, cancelled
	}
	var left int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM incident_count_deltas WHERE xid = '0'`).Scan(&left); err != nil || left != 7 {
		t.Fatalf("%d deltas of the old release after the upgrade (%v), want 7", left, err)
	}
	if all, cancelled := totals(); all != 5 || cancelled != 1 {
		t.Fatalf("after the upgrade: %d incidents, %d cancelled; want 5 and 1", all, cancelled)
	}
	if err := db.sequence(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM incident_count_deltas`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d deltas left after the first fold (%v)", left, err)
	}
	if all, cancelled := totals(); all != 5 || cancelled != 1 {
		t.Fatalf("after the first fold: %d incidents, %d cancelled; want 5 and 1", all, cancelled)
	}
}

// A database of the release before the log's subjects (migration 28)
// upgrades without a rewrite of its log: a row positioned before (or by a
// sequencer of that release whose call began before the migration) holds
// no subject, and every read takes it from the event's row. Rows
// positioned after hold theirs.
func TestUpgradeReadsLogRowsWithoutSubjects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := databaseAt(t, 27)
	if _, err := pool.Exec(ctx, `INSERT INTO organizations (id, name, plan, status, created_at) VALUES ($1, 'Acme', 'growth', 'active', $2)`,
		fixtureTenant.OrgID, fixtureTime); err != nil {
		t.Fatal(err)
	}
	var all []outbox.Event
	for _, id := range []string{"inc_before", "inc_after"} {
		inc, events := fixtureIncident(t, id)
		values, err := sqlstore.IncidentValues(dialect{}, inc, nil)
		if err != nil {
			t.Fatal(err)
		}
		b := &pgx.Batch{}
		b.Queue(insertIncident, sqlstore.IncidentArgs(dialect{}, inc, values)...)
		queueEvents(b, events)
		if err := pool.SendBatch(ctx, b).Close(); err != nil {
			t.Fatal(err)
		}
		// After the commit: a run positions the events of transactions
		// that ended before it, never its own transaction's (migration 30).
		if _, err := pool.Exec(ctx, `SELECT outbox_sequence(1000, true)`); err != nil {
			t.Fatal(err)
		}
		all = append(all, events...)
		if id == "inc_before" {
			if _, err := New(ctx, pool); err != nil {
				t.Fatal(err)
			}
		}
	}
	var without int
	if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE subject_id IS NULL) FROM outbox_log`).Scan(&without); err != nil || without != 2 {
		t.Fatalf("%d log rows without a subject (%v), want the 2 positioned before the upgrade", without, err)
	}
	log := (&DB{pool: pool}).EventLog()
	envelopes, _, err := log.EventsAfter(ctx, 0, outbox.Filter{Envelopes: true, Through: 4}, 10)
	if err != nil {
		t.Fatal(err)
	}
	checkSubjects(t, "envelopes", envelopes, all...)
	briefs, _, err := log.EventsAfter(ctx, 0, outbox.Filter{Brief: true, Through: 4}, 10)
	if err != nil {
		t.Fatal(err)
	}
	checkSubjects(t, "briefs", briefs, all...)
	for _, ev := range briefs {
		if ev.Brief == nil && len(ev.Data) == 0 {
			t.Fatalf("briefs: %s of %s with neither a brief nor its data", ev.Type, ev.SubjectID)
		}
	}
}

// seedOldIncidents writes, as a server of an earlier release did, tenant's
// organization and n incidents with status, inc_0000000000000000 on.
func seedOldIncidents(t *testing.T, pool *pgxpool.Pool, tenant auth.Tenant, n int, status incident.Status) {
	t.Helper()
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO organizations (id, name, plan, status, created_at) VALUES ($1, 'Acme', 'growth', 'active', $2)`, tenant.OrgID, fixtureTime); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		inc := &incident.Incident{ID: fmt.Sprintf("inc_%016d", i), Category: incident.SOS, Severity: incident.High,
			Status: status, Title: "Old", Location: incident.IncidentLocation{Coordinates: geo.NewPoint(6.5, 3.4)},
			CreatedAt: clock.At(fixtureTime), UpdatedAt: clock.At(fixtureTime), OrgID: tenant.OrgID, Environment: tenant.Env, Sequence: 1}
		values, err := sqlstore.IncidentValues(dialect{}, inc, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, insertIncident, sqlstore.IncidentArgs(dialect{}, inc, values)...); err != nil {
			t.Fatal(err)
		}
	}
}

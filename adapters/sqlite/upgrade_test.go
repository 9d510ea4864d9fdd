package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/adapters/storetest"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/threat"
	"github.com/sety-io/sety/webhook"
)

// openAtVersion creates a database at path with the embedded migrations up
// to version applied, as an earlier release left it, and returns a raw
// handle on it to write rows as that release did.
func openAtVersion(t *testing.T, path string, version int) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)&_pragma=synchronous(OFF)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	raw.SetMaxOpenConns(1)
	if _, err := raw.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		t.Fatal(err)
	}
	for v := 1; v <= version; v++ {
		names, err := migrationNames(v)
		if err != nil || len(names) != 1 {
			t.Fatalf("migration %d: %v %v", v, names, err)
		}
		body, err := migrations.ReadFile(names[0])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(string(body)); err != nil {
			t.Fatalf("migration %d: %v", v, err)
		}
		if _, err := raw.Exec(`INSERT INTO schema_migrations VALUES (?, ?, 0)`, v, names[0]); err != nil {
			t.Fatal(err)
		}
	}
	return raw
}

// upgrade closes old, the database an earlier release left at path, and
// opens it with every migration, as the new release does; the handle is
// closed when the test ends.
func upgrade(t *testing.T, old *sql.DB, path string) *DB {
	t.Helper()
	old.Close()
	db, err := Open(context.Background(), path, &Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func migrationNames(version int) ([]string, error) {
	return fs.Glob(migrations, fmt.Sprintf("migrations/%04d_*.sql", version))
}

func exec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// A database of the release before (migration 10) with webhook deliveries in flight upgrades: each
// delivery gets its event's subject and sequence, keeps its insertion
// order, and the worker claims the incident's deliveries in sequence order.
func TestUpgradeKeepsDeliveriesInTheirLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sety.db")
	old := openAtVersion(t, path, 10)
	at := time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC).UnixMilli()
	exec(t, old, `INSERT INTO organizations (id, name, plan, status, created_at) VALUES ('org_0000000000000001', 'Acme', 'growth', 'active', ?)`, at)
	exec(t, old, `INSERT INTO webhook_endpoints (id, org_id, environment, url, events, status, secret, failing_since, created_at, updated_at)
		VALUES ('we_0000000000000001', 'org_0000000000000001', 'live', 'https://example.com/hook', '["*"]', 'enabled', 'whsec_c2VjcmV0', ?, ?, ?)`, at, at, at)
	// Three events of one incident; their deliveries were inserted out of
	// sequence order (the second first), as two processes could.
	for i, seq := range []int{2, 1, 3} {
		exec(t, old, `INSERT INTO outbox_events (id, org_id, environment, type, subject_id, sequence, data, created_at, published_at)
			VALUES (?, 'org_0000000000000001', 'live', 'incident.note_added', 'inc_0000000000000001', ?, '{}', ?, ?)`, fmt.Sprintf("evt_%016d", seq), seq, at, at)
		exec(t, old, `INSERT INTO webhook_deliveries (id, endpoint_id, org_id, environment, event_id, event_type, status, attempts, next_attempt_at, created_at)
			VALUES (?, 'we_0000000000000001', 'org_0000000000000001', 'live', ?, 'incident.note_added', 'pending', 0, ?, ?)`,
			fmt.Sprintf("whd_%016d", i+1), fmt.Sprintf("evt_%016d", seq), at, at)
	}
	db := upgrade(t, old, path)
	e, err := sqlstore.ScanEndpoint(db.read.QueryRow(sqlstore.SelectEndpoint + ` WHERE id = 'we_0000000000000001'`))
	if err != nil || e.Failures != 0 || !e.PausedUntil.IsZero() || e.Secret != "whsec_c2VjcmV0" {
		t.Fatalf("endpoint after the upgrade: %+v %v", e, err)
	}
	q := db.WebhookQueue()
	now := time.UnixMilli(at).Add(time.Minute)
	for want := int64(1); want <= 3; want++ {
		jobs, err := q.ClaimDeliveries(context.Background(), webhook.Claim{Owner: "w", Now: now, Until: now.Add(time.Minute), Limit: 10})
		if err != nil || len(jobs) != 1 || jobs[0].Event.Sequence != want {
			t.Fatalf("claim %d: %d jobs, %v", want, len(jobs), err)
		}
		if err := q.FinishAttempt(context.Background(), "w", jobs[0].Delivery.ID, func(d *webhook.Delivery, _ *webhook.Endpoint) error {
			d.Status = webhook.Succeeded
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// Two migrations with one version number would run only the first: a
// branch that adds a migration beside another branch's must renumber.
func TestMigrationVersionsAreUnique(t *testing.T) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for v := 1; v <= len(names); v++ {
		if got, _ := migrationNames(v); len(got) != 1 {
			t.Errorf("migration version %d: %v, want exactly one file", v, got)
		}
	}
}

// A database of the release before the incident counts (migration 12)
// upgrades with its counts taken from its incidents: list totals are right
// at once, and follow the changes after.
func TestUpgradeCountsExistingIncidents(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sety.db")
	old := openAtVersion(t, path, 12)
	tenant := auth.Tenant{OrgID: "org_0000000000000001", Env: auth.Live}
	at := time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)
	exec(t, old, `INSERT INTO organizations (id, name, plan, status, created_at) VALUES ('org_0000000000000001', 'Acme', 'growth', 'active', ?)`, at.UnixMilli())
	for i := range 7 {
		inc := &incident.Incident{ID: fmt.Sprintf("inc_%016d", i), Category: incident.Categories[i%2], Severity: incident.High,
			Status: incident.Statuses[i%3], Title: "Old", Location: incident.IncidentLocation{Coordinates: geo.NewPoint(6.5, 3.4)},
			CreatedAt: clock.At(at), UpdatedAt: clock.At(at), OrgID: tenant.OrgID, Environment: tenant.Env, Sequence: 1}
		values, err := sqlstore.IncidentValues(dialect{}, inc, nil)
		if err != nil {
			t.Fatal(err)
		}
		args := sqlstore.IncidentArgs(dialect{}, inc, values)
		exec(t, old, sqlstore.InsertIncident, args...)
	}
	db := upgrade(t, old, path)
	st := db.IncidentStore()
	total := func(f incident.Filter) int {
		t.Helper()
		f.Limit = 1
		_, n, err := st.ListIncidents(context.Background(), tenant, f)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	created := incident.Filter{Statuses: []incident.Status{incident.Created}}
	if all, c := total(incident.Filter{}), total(created); all != 7 || c != 3 {
		t.Fatalf("after the upgrade: %d incidents, %d created; want 7 and 3", all, c)
	}
	if _, err := st.UpdateIncident(context.Background(), tenant, "inc_0000000000000000", func(c *incident.Incident) (incident.Effects, error) {
		c.Status = incident.Cancelled
		return incident.Effects{}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if all, c := total(incident.Filter{}), total(created); all != 7 || c != 2 {
		t.Fatalf("after a cancel: %d incidents, %d created; want 7 and 2", all, c)
	}
}

// A database of the release before sessions recorded their key (migration
// 16) upgrades with the parent of each session it holds, read from its
// name: such a session ends with its key and is purged once ended. A key
// merely named like a session stays an API key.
func TestUpgradeFindsTheKeysOfSessions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sety.db")
	old := openAtVersion(t, path, 16)
	at := storetest.LegacyKeysAt
	exec(t, old, `INSERT INTO organizations (id, name, plan, status, created_at) VALUES (?, 'Acme', 'growth', 'active', ?)`, storetest.LegacyKeysOrg, at.UnixMilli())
	for _, k := range storetest.LegacySessionKeys {
		exec(t, old, `INSERT INTO api_keys (id, org_id, name, environment, prefix, scopes, hash, created_at, expires_at)
			VALUES (?, ?, ?, ?, 'sety_live_0000', ?, ?, ?, ?)`, k.ID, storetest.LegacyKeysOrg, k.Name, k.Environment, k.Scopes, []byte(k.ID),
			at.UnixMilli(), millis(k.ExpiresAt))
	}
	db := upgrade(t, old, path)
	storetest.CheckLegacySessionKeys(t, db.AuthStore())
}

// lighterCreate is the version of the migration that trims the incidents'
// indexes and stores a transaction's later events as deltas.
const lighterCreate = 19

// A database of the release before the lighter create upgrades: its
// incidents are listed, filtered, counted and loaded by the threat engine
// through the indexes that remain, and its events, each a full copy, read
// back as they were, beside new ones stored as deltas.
func TestUpgradeToLighterCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sety.db")
	old := openAtVersion(t, path, lighterCreate-1)
	tenant := auth.Tenant{OrgID: "org_0000000000000001", Env: auth.Live}
	at := time.Now().Add(-time.Hour).Truncate(time.Millisecond).UTC()
	exec(t, old, `INSERT INTO organizations (id, name, plan, status, created_at) VALUES ('org_0000000000000001', 'Acme', 'growth', 'active', ?)`, at.UnixMilli())
	statuses := []incident.Status{incident.Dispatching, incident.Resolved, incident.Dispatching}
	var oldData []string
	for i, st := range statuses {
		inc := &incident.Incident{ID: fmt.Sprintf("inc_%016d", i), Category: incident.Vehicle, Severity: incident.High,
			Status: st, Title: "Old", Location: incident.IncidentLocation{Coordinates: geo.NewPoint(6.5, 3.4)},
			CreatedAt: clock.At(at), UpdatedAt: clock.At(at), OrgID: tenant.OrgID, Environment: tenant.Env, Sequence: 1}
		values, err := sqlstore.IncidentValues(dialect{}, inc, nil)
		if err != nil {
			t.Fatal(err)
		}
		exec(t, old, sqlstore.InsertIncident, sqlstore.IncidentArgs(dialect{}, inc, values)...)
		data := fmt.Sprintf(`{"incident":{"incident_id":%q,"status":%q}}`, inc.ID, st)
		oldData = append(oldData, data)
		exec(t, old, `INSERT INTO outbox_events (id, org_id, environment, type, subject_id, sequence, data, created_at)
			VALUES (?, ?, 'live', 'incident.created', ?, 1, ?, ?)`, fmt.Sprintf("evt_%016d", i), tenant.OrgID, inc.ID, data, at.UnixMilli())
	}
	db := upgrade(t, old, path)
	ctx := context.Background()
	st := db.IncidentStore()
	for _, c := range []struct {
		f    incident.Filter
		want int
	}{
		{incident.Filter{}, 3},
		{incident.Filter{Statuses: []incident.Status{incident.Dispatching}}, 2},
		{incident.Filter{Statuses: []incident.Status{incident.Resolved}}, 1},
		{incident.Filter{Statuses: []incident.Status{incident.Dispatching, incident.Resolved}}, 3},
		{incident.Filter{Statuses: []incident.Status{incident.Dispatching}, From: at.Add(-time.Minute)}, 2},
	} {
		c.f.Limit = 10
		page, total, err := st.ListIncidents(ctx, tenant, c.f)
		if err != nil || len(page) != c.want || total != c.want {
			t.Errorf("list %+v: %d incidents, total %d, %v; want %d", c.f.Statuses, len(page), total, err, c.want)
		}
	}
	active, err := st.CountActive(ctx)
	if err != nil || active.Active[auth.Live][incident.Dispatching] != 2 || active.Queued != 2 {
		t.Errorf("active counts %+v, %v; want 2 dispatching, 2 queued", active, err)
	}
	reports := 0
	if _, err := db.ThreatSource().ThreatReports(ctx, at.Add(-time.Minute), func(threat.Report) error { reports++; return nil }); err != nil || reports != 3 {
		t.Errorf("threat reports: %d, %v; want 3", reports, err)
	}
	events, _, err := db.EventLog().EventsAfter(ctx, 0, outbox.Filter{OrgID: tenant.OrgID, Environment: "live"}, 10)
	if err != nil || len(events) != 3 {
		t.Fatalf("events: %d, %v", len(events), err)
	}
	for i, ev := range events {
		if string(ev.Data) != oldData[i] {
			t.Errorf("event %d reads %s, want %s", i, ev.Data, oldData[i])
		}
	}
}

// fanOutWatermark is the version of the migration that replaces the
// events' published_at, as the fan-out's progress, with one watermark.
const fanOutWatermark = 20

// A database of the release before the watermark upgrades: the events the
// fan-out had not taken (below and above a ping's, published at insert)
// are fanned out once, in order, and no other; retention then deletes the
// published ones, old and new, but the log's head.
func TestUpgradeToFanOutWatermark(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sety.db")
	old := openAtVersion(t, path, fanOutWatermark-1)
	at := time.Now().Add(-48 * time.Hour).UnixMilli()
	// Positions 1 and 2 fanned out, 3 not, 4 a ping's event, 5 not.
	for i, published := range []bool{true, true, false, true, false} {
		var publishedAt any
		if published {
			publishedAt = at
		}
		exec(t, old, `INSERT INTO outbox_events (id, org_id, environment, type, subject_id, sequence, data, created_at, published_at)
			VALUES (?, 'org_0000000000000001', 'live', 'incident.created', ?, 1, '{}', ?, ?)`,
			fmt.Sprintf("evt_%016d", i+1), fmt.Sprintf("inc_%016d", i+1), at, publishedAt)
	}
	db := upgrade(t, old, path)
	ctx := context.Background()
	// The fan-out plans the events of tenants with an endpoint.
	org := &auth.Organization{ID: "org_0000000000000001", Name: "Acme", Plan: auth.Enterprise, Status: auth.Active, CreatedAt: clock.At(testStart)}
	if err := db.AuthStore().CreateOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	subscribe(t, db, auth.Tenant{OrgID: org.ID, Env: auth.Live})
	ids := func(events []outbox.Event) (out []string) {
		for _, ev := range events {
			out = append(out, ev.ID)
		}
		return out
	}
	want := []string{"evt_0000000000000003", "evt_0000000000000005"}
	pending, err := db.OutboxReader().PendingEvents(ctx, 10)
	if err != nil || fmt.Sprint(ids(pending)) != fmt.Sprint(want) {
		t.Fatalf("pending after the upgrade: %v, %v; want %v", ids(pending), err, want)
	}
	var planned []outbox.Event
	plan := func(ev outbox.Event, _ []*webhook.Endpoint) []*webhook.Delivery {
		planned = append(planned, ev)
		return nil
	}
	if n, err := db.WebhookQueue().FanOut(ctx, 10, plan); err != nil || n != 2 || fmt.Sprint(ids(planned)) != fmt.Sprint(want) {
		t.Fatalf("fan-out: %d %v, %v; want %v", n, ids(planned), err, want)
	}
	if n, err := db.WebhookQueue().FanOut(ctx, 10, plan); err != nil || n != 0 {
		t.Fatalf("second fan-out took %d, %v", n, err)
	}
	if pending, err := db.OutboxReader().PendingEvents(ctx, 10); err != nil || len(pending) != 0 {
		t.Fatalf("pending after the fan-out: %v, %v", ids(pending), err)
	}
	if n, err := db.WebhookQueue().PurgeEvents(ctx, time.Now(), 10); err != nil || n != 4 {
		t.Fatalf("purged %d, %v; want all but the head", n, err)
	}
	if events, _, err := db.EventLog().EventsAfter(ctx, 0, outbox.Filter{}, 10); err != nil || fmt.Sprint(ids(events)) != "[evt_0000000000000005]" {
		t.Fatalf("events after the purge: %v, %v", ids(events), err)
	}
}

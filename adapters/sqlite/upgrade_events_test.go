package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
)

// eventsWithoutAutoincrement is the version of the migration that rebuilds
// outbox_events without AUTOINCREMENT.
const eventsWithoutAutoincrement = 23

// A database of the release before the rebuild upgrades: its events read
// back as they were (a delta's too), a delivery still refers to its event,
// SQLite keeps no sequence for the table any more, and new events go on
// above the highest position ever given, also one whose event was deleted
// by hand, which no reader sees.
func TestUpgradeToEventsWithoutAutoincrement(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sety.db")
	old := openAtVersion(t, path, eventsWithoutAutoincrement-1)
	at := time.Now().Add(-time.Hour).UnixMilli()
	exec(t, old, `INSERT INTO organizations (id, name, plan, status, created_at) VALUES ('org_0000000000000001', 'Acme', 'growth', 'active', ?)`, at)
	exec(t, old, `INSERT INTO webhook_endpoints (id, org_id, environment, url, events, status, secret, created_at, updated_at)
		VALUES ('we_1', 'org_0000000000000001', 'live', 'https://example.com/hook', '["*"]', 'enabled', 's', ?, ?)`, at, at)
	first := []byte(`{"incident":{"incident_id":"inc_0000000000000001","status":"reported","title":"an incident long enough for a delta"}}`)
	second := []byte(`{"incident":{"incident_id":"inc_0000000000000001","status":"dispatching","title":"an incident long enough for a delta"}}`)
	delta := deltaOf(first, second)
	if delta == nil {
		t.Fatal("no delta")
	}
	insert := `INSERT INTO outbox_events (id, org_id, environment, type, subject_id, sequence, data, created_at, base, delta)
		VALUES (?, 'org_0000000000000001', 'live', ?, 'inc_0000000000000001', ?, ?, ?, ?, ?)`
	exec(t, old, insert, "evt_1", incident.TypeCreated, 1, string(first), at, nil, nil)
	exec(t, old, insert, "evt_2", "incident.dispatching", 2, "", at, 1, delta)
	exec(t, old, insert, "evt_3", "incident.cancelled", 3, "{}", at, nil, nil)
	exec(t, old, insert, "evt_4", "incident.note_added", 4, "{}", at, nil, nil)
	exec(t, old, `INSERT INTO webhook_deliveries (id, endpoint_id, org_id, environment, event_id, event_type, subject_id, sequence, status, attempts, created_at)
		VALUES ('dlv_1', 'we_1', 'org_0000000000000001', 'live', 'evt_3', 'incident.cancelled', 'inc_0000000000000001', 3, 'pending', 0, ?)`, at)
	// The newest event deleted by hand: sqlite_sequence still says 4.
	exec(t, old, `DELETE FROM outbox_events WHERE position = 4`)

	db := upgrade(t, old, path)
	ctx := context.Background()
	var sequences int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_sequence WHERE name = 'outbox_events'`).Scan(&sequences); err != nil || sequences != 0 {
		t.Fatalf("sqlite_sequence rows of outbox_events: %d, %v; want none (no AUTOINCREMENT)", sequences, err)
	}
	var violations int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM pragma_foreign_key_check`).Scan(&violations); err != nil || violations != 0 {
		t.Fatalf("foreign key violations: %d, %v", violations, err)
	}
	var eventOfDelivery string
	if err := db.read.QueryRowContext(ctx, `SELECT e.id FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id`).Scan(&eventOfDelivery); err != nil || eventOfDelivery != "evt_3" {
		t.Fatalf("the delivery's event: %q, %v", eventOfDelivery, err)
	}
	events, next, err := db.EventLog().EventsAfter(ctx, 0, outbox.Filter{}, 10)
	if err != nil || len(events) != 3 || next != 4 {
		t.Fatalf("events after the upgrade: %d, next %d, %v; want 3, next 4", len(events), next, err)
	}
	for i, want := range [][]byte{first, second, []byte("{}")} {
		if ev := events[i]; ev.Position != int64(i+1) || string(ev.Data) != string(want) {
			t.Errorf("event %d: position %d, data %s; want %d, %s", i, ev.Position, ev.Data, i+1, want)
		}
	}

	// A new incident's events go on above position 4, which a deleted
	// event held.
	tenant := auth.Tenant{OrgID: "org_0000000000000001", Env: auth.Live}
	inc := &incident.Incident{ID: "inc_0000000000000002", Category: incident.Vehicle, Severity: incident.High, Status: incident.Dispatching,
		Title: "New", Location: incident.IncidentLocation{Coordinates: geo.NewPoint(6.5, 3.4)}, CreatedAt: clock.At(testStart),
		UpdatedAt: clock.At(testStart), OrgID: tenant.OrgID, Environment: tenant.Env, Sequence: 1}
	created := outbox.Event{ID: "evt_5", OrgID: tenant.OrgID, Environment: string(tenant.Env), Type: incident.TypeCreated,
		SubjectID: inc.ID, Sequence: 1, Data: []byte(`{}`), CreatedAt: testStart}
	if _, _, err := db.IncidentStore().CreateIncident(ctx, inc, incident.Effects{Events: []outbox.Event{created}}); err != nil {
		t.Fatal(err)
	}
	events, next, err = db.EventLog().EventsAfter(ctx, 3, outbox.Filter{}, 10)
	if err != nil || len(events) != 1 || events[0].ID != "evt_5" || events[0].Position != 5 || next != 5 {
		t.Fatalf("events after 3: %v, next %d, %v; want evt_5 at 5", positions(events), next, err)
	}
}

func positions(events []outbox.Event) (out []string) {
	for _, ev := range events {
		out = append(out, fmt.Sprintf("%s@%d", ev.ID, ev.Position))
	}
	return out
}

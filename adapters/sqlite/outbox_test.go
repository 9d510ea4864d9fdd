package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
)

// heard keeps the events a service tells its notifier of: the bytes every
// reader of the outbox must get back.
type heard struct {
	mu     sync.Mutex
	events []outbox.Event
}

func (h *heard) Notify(_ context.Context, events []outbox.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, events...)
}

// createLive creates a live incident through the service, with nobody on
// duty: it is stored in dispatching with two events, incident.created and
// incident.dispatching.
func createLive(t *testing.T, db *DB, h *heard) *incident.Incident {
	t.Helper()
	svc := incident.NewService(db.IncidentStore(), incident.Config{Responders: db.ResponderStore(), Notifier: h})
	name, ref := "Amaka Obi", "TRIP-44821"
	inc, _, err := svc.Create(context.Background(), testTenant, incident.CreateIncidentRequest{
		Category: incident.Vehicle, Severity: incident.High, Title: "Vehicle emergency reported by rider",
		Subject:  &incident.Subject{Name: &name, Reference: &ref, Metadata: map[string]string{"trip_id": "trp_9x2k4m"}},
		Location: incident.Location{Coordinates: geo.Point{3.4219, 6.4281}, Address: "22 Adeola Odeku Street, Victoria Island, Lagos"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if inc.Status != incident.Dispatching {
		t.Fatalf("status %s, want dispatching", inc.Status)
	}
	return inc
}

// A create's second event is stored as a delta against its first, and
// every reader of the outbox (the fan-out's pending events, the log the
// stream and the threat feed follow, a delivery's event by id) gets the
// bytes the service wrote.
func TestEventStoredAsDelta(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	h := &heard{}
	inc := createLive(t, db, h)
	if len(h.events) != 2 || h.events[1].Type != incident.TypeDispatching {
		t.Fatalf("events %v, want created and dispatching", h.events)
	}
	var firstPos, base int64
	var data string
	var delta []byte
	if err := db.read.QueryRow(`SELECT position FROM outbox_events WHERE id = ?`, h.events[0].ID).Scan(&firstPos); err != nil {
		t.Fatal(err)
	}
	if err := db.read.QueryRow(`SELECT data, base, delta FROM outbox_events WHERE id = ?`, h.events[1].ID).Scan(&data, &base, &delta); err != nil {
		t.Fatal(err)
	}
	if data != "" || base != firstPos || len(delta) == 0 || len(delta) > len(h.events[1].Data)/4 {
		t.Fatalf("second event stored as data %d bytes, base %d (want %d), delta %d bytes (event %d)", len(data), base, firstPos, len(delta), len(h.events[1].Data))
	}

	same := func(reader string, got []outbox.Event) {
		t.Helper()
		if len(got) != len(h.events) {
			t.Fatalf("%s: %d events, want %d", reader, len(got), len(h.events))
		}
		for i, ev := range got {
			want := h.events[i]
			if ev.ID != want.ID || ev.Type != want.Type || ev.Sequence != want.Sequence || !bytes.Equal(ev.Data, want.Data) || !ev.CreatedAt.Equal(want.CreatedAt) {
				t.Errorf("%s: event %d is %s %s seq %d %q, want %s %s seq %d %q", reader, i, ev.ID, ev.Type, ev.Sequence, ev.Data, want.ID, want.Type, want.Sequence, want.Data)
			}
		}
	}
	pending, err := db.OutboxReader().PendingEvents(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	same("pending events", pending)
	logged, _, err := db.EventLog().EventsAfter(ctx, 0, outbox.Filter{OrgID: inc.OrgID, Environment: "live", TypePrefix: "incident."}, 10)
	if err != nil {
		t.Fatal(err)
	}
	same("event log", logged)
	var byID []outbox.Event
	for _, ev := range h.events {
		got, err := scanEvent(db.read.QueryRow(selectEvent+` WHERE e.id = ?`, ev.ID))
		if err != nil {
			t.Fatal(err)
		}
		byID = append(byID, got)
	}
	same("event by id", byID)
	if got, err := incident.EventPayload(logged[1]); err != nil || got.Status != incident.Dispatching || got.ID != inc.ID {
		t.Fatalf("payload of the rebuilt event: %v, %v", got, err)
	}
}

// Retention deletes an event on time even when a later event's data is a
// delta against it: the later event, which stays, gets its data in full
// first, and reads back the same bytes.
func TestPurgeRebuildsDependents(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	h := &heard{}
	createLive(t, db, h)
	createLive(t, db, h) // the log's head, which retention never deletes
	base, dependent := h.events[0], h.events[1]
	if err := db.inTx(ctx, func(tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `UPDATE outbox_events SET published_at = created_at WHERE id = ?`, base.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := db.WebhookQueue().PurgeEvents(ctx, time.Now().Add(time.Hour), 100); err != nil || n != 1 {
		t.Fatalf("purged %d, %v; want the published base", n, err)
	}
	var left int
	var delta []byte
	if err := db.read.QueryRow(`SELECT count(*) FROM outbox_events WHERE id = ?`, base.ID).Scan(&left); err != nil || left != 0 {
		t.Fatalf("base left: %d, %v", left, err)
	}
	if err := db.read.QueryRow(`SELECT delta FROM outbox_events WHERE id = ?`, dependent.ID).Scan(&delta); err != nil || delta != nil {
		t.Fatalf("the dependent still keeps a delta (%d bytes), %v", len(delta), err)
	}
	got, err := scanEvent(db.read.QueryRow(selectEvent+` WHERE e.id = ?`, dependent.ID))
	if err != nil || !bytes.Equal(got.Data, dependent.Data) {
		t.Fatalf("the dependent reads %q, %v; want %q", got.Data, err, dependent.Data)
	}
}

// The stores written once in sqlstore add events through the transaction's
// InsertEvents: SQLite packs them as its own creates do, an incident's
// later event of the transaction stored as a delta, read back whole.
func TestSharedInsertEventsPacks(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	at := time.Now().Truncate(time.Millisecond).UTC()
	doc := `{"incident":{"incident_id":"inc_shared0000000001","title":"` + strings.Repeat("Vehicle emergency reported by rider ", 8) + `","status":"%s"}}`
	events := []outbox.Event{
		{ID: "evt_shared0000000001", OrgID: testTenant.OrgID, Environment: string(testTenant.Env), Type: incident.TypeCreated,
			SubjectID: "inc_shared0000000001", Sequence: 1, Data: []byte(fmt.Sprintf(doc, "created")), CreatedAt: at},
		{ID: "evt_shared0000000002", OrgID: testTenant.OrgID, Environment: string(testTenant.Env), Type: incident.TypeDispatching,
			SubjectID: "inc_shared0000000001", Sequence: 2, Data: []byte(fmt.Sprintf(doc, "dispatching")), CreatedAt: at},
	}
	if err := db.drv.InTx(ctx, func(tx sqlstore.Tx) error { tx.InsertEvents(events); return nil }); err != nil {
		t.Fatal(err)
	}
	var base sql.NullInt64
	if err := db.read.QueryRow(`SELECT base FROM outbox_events WHERE id = ?`, events[1].ID).Scan(&base); err != nil || !base.Valid {
		t.Fatalf("the second event's base: %v, %v; want a delta", base, err)
	}
	pending, err := db.OutboxReader().PendingEvents(ctx, 10)
	if err != nil || len(pending) != 2 {
		t.Fatalf("pending events: %d, %v", len(pending), err)
	}
	for i, ev := range pending {
		if ev.ID != events[i].ID || !bytes.Equal(ev.Data, events[i].Data) {
			t.Errorf("event %d reads %s %q, want %s %q", i, ev.ID, ev.Data, events[i].ID, events[i].Data)
		}
	}
	// A failed insert fails the transaction, as Later's error does.
	err = db.drv.InTx(ctx, func(tx sqlstore.Tx) error { tx.InsertEvents(events[:1]); return nil })
	if err == nil {
		t.Fatal("an event inserted twice committed")
	}
}

// An event's data is stored as TEXT, though it is bound as bytes (a []byte
// binds as a BLOB): a full event's data and a delta's ” alike, and
// SQLite's json functions read the data as JSON text (a BLOB they would
// take for JSONB).
func TestEventDataIsStoredAsText(t *testing.T) {
	db := openTest(t)
	h := &heard{}
	inc := createLive(t, db, h)
	for _, ev := range h.events {
		var kind, id string
		if err := db.read.QueryRow(`SELECT typeof(data), CASE WHEN data = '' THEN '' ELSE coalesce(json_extract(data, '$.incident.incident_id'), 'null') END
			FROM outbox_events WHERE id = ?`,
			ev.ID).Scan(&kind, &id); err != nil {
			t.Fatal(err)
		}
		full := ev.ID == h.events[0].ID // the second is a delta, its data ''
		if kind != "text" || full && id != inc.ID || !full && id != "" {
			t.Errorf("%s's data stored as %s, its incident.incident_id %q; want text, %q", ev.Type, kind, id, map[bool]string{true: inc.ID}[full])
		}
	}
}

// An incident's document and tracking are stored as TEXT, though they are
// bound as bytes (sqlstore.Dialect.Text), by a create and by a change
// alike, and SQLite's json functions read them as JSON text.
func TestIncidentDocIsStoredAsText(t *testing.T) {
	db := openTest(t)
	inc := createLive(t, db, &heard{})
	check := func(when string) {
		t.Helper()
		var docType, trkType, id string
		var valid bool
		if err := db.read.QueryRow(`SELECT typeof(doc), typeof(tracking), json_extract(doc, '$.incident_id'), json_valid(tracking)
			FROM incidents WHERE id = ?`, inc.ID).Scan(&docType, &trkType, &id, &valid); err != nil {
			t.Fatal(err)
		}
		if docType != "text" || trkType != "text" || id != inc.ID || !valid {
			t.Errorf("after the %s: doc stored as %s (incident_id %q), tracking as %s (valid JSON %v); want text, %q, text, true",
				when, docType, id, trkType, valid, inc.ID)
		}
	}
	check("create")
	svc := incident.NewService(db.IncidentStore(), incident.Config{Responders: db.ResponderStore()})
	if _, err := svc.AddNote(context.Background(), testTenant, inc.ID, "Caller says the car is blue"); err != nil {
		t.Fatal(err)
	}
	check("note")
}

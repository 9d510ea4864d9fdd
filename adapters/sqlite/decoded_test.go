package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
)

// The decoded form is kept, but what a get returns is the caller's to
// change, and a changed row is decoded again.
func TestDecodedIncidentsAnswerOnlyTheRowsText(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	inc, ev := testIncident(1, "")
	if _, _, err := db.IncidentStore().CreateIncident(ctx, inc, incident.Effects{Events: []outbox.Event{ev}}); err != nil {
		t.Fatal(err)
	}
	got, err := db.IncidentStore().GetIncident(ctx, testTenant, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	got.Title = "Scribbled on by the caller"
	again, err := db.IncidentStore().GetIncident(ctx, testTenant, inc.ID)
	if err != nil || again.Title != "SOS" {
		t.Fatalf("get after the caller changed its copy: %q %v, want SOS", again.Title, err)
	}
	if _, err := db.IncidentStore().UpdateIncident(ctx, testTenant, inc.ID, func(cur *incident.Incident) (incident.Effects, error) {
		cur.Title = "Changed"
		return incident.Effects{}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if after, err := db.IncidentStore().GetIncident(ctx, testTenant, inc.ID); err != nil || after.Title != "Changed" {
		t.Fatalf("get after a change: %q %v, want Changed", after.Title, err)
	}
}

// A peek answers with the kept value itself, the same pointer while the
// row's text stays the same, and a new one once anyone changes the row:
// here another instance on the same file.
func TestPeekIncidentIsTheKeptValueUntilTheRowChanges(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sety.db")
	var instances [2]*DB
	for i := range instances {
		db, err := Open(ctx, path, &Options{Synchronous: "NORMAL", aloneEvery: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		instances[i] = db
	}
	db, other := instances[0], instances[1]
	org := &auth.Organization{ID: testTenant.OrgID, Name: "Peek", Plan: auth.Enterprise, Status: auth.Active, CreatedAt: clock.At(testStart)}
	if err := db.AuthStore().CreateOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	inc, ev := testIncident(1, "")
	if _, _, err := db.IncidentStore().CreateIncident(ctx, inc, incident.Effects{Events: []outbox.Event{ev}}); err != nil {
		t.Fatal(err)
	}
	peek := func() *incident.Incident {
		t.Helper()
		got, err := db.IncidentStore().(incident.SharedReader).PeekIncident(ctx, testTenant, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	first := peek()
	if again := peek(); again != first {
		t.Fatal("two peeks of an unchanged row gave two values")
	}
	if got, err := db.IncidentStore().GetIncident(ctx, testTenant, inc.ID); err != nil || got == first {
		t.Fatalf("a get answered with the kept value itself (%v): callers may change what a get returns", err)
	}
	if _, err := other.IncidentStore().UpdateIncident(ctx, testTenant, inc.ID, func(cur *incident.Incident) (incident.Effects, error) {
		cur.Title = "Changed elsewhere"
		return incident.Effects{}, nil
	}); err != nil {
		t.Fatal(err)
	}
	after := peek()
	if after == first || after.Title != "Changed elsewhere" || first.Title != "SOS" {
		t.Fatalf("peek after another instance's change: %q (same value: %v), kept %q", after.Title, after == first, first.Title)
	}
	// The peek has SQLite compare each column with the text kept for it;
	// a change of the tracking alone (the document's text the same) is a
	// change too, and so is one back to the text kept before.
	if _, err := other.IncidentStore().UpdateIncident(ctx, testTenant, inc.ID, func(cur *incident.Incident) (incident.Effects, error) {
		cur.Tracking.AssignBreached = true
		return incident.Effects{}, nil
	}); err != nil {
		t.Fatal(err)
	}
	tracked := peek()
	if tracked == after || !tracked.Tracking.AssignBreached || tracked.Title != "Changed elsewhere" || after.Tracking.AssignBreached {
		t.Fatalf("peek after a change of the tracking alone: breached %v (same value: %v), title %q", tracked.Tracking.AssignBreached, tracked == after, tracked.Title)
	}
	if _, err := other.IncidentStore().UpdateIncident(ctx, testTenant, inc.ID, func(cur *incident.Incident) (incident.Effects, error) {
		cur.Title = "SOS"
		return incident.Effects{}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if back := peek(); back == tracked || back.Title != "SOS" || !back.Tracking.AssignBreached {
		t.Fatalf("peek after a change back: %q, breached %v (same value: %v)", back.Title, back.Tracking.AssignBreached, back == tracked)
	}
	if _, err := db.IncidentStore().(incident.SharedReader).PeekIncident(ctx, testTenant, "inc_0000000000000000"); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("peek of a missing incident: %v, want not found", err)
	}
}

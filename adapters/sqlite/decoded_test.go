package sqlite

import (
	"context"
	"testing"

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

package postgres

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/pgtest"
	"github.com/sety-io/sety/outbox"
)

// fixtureIncident is a live incident of the fixture tenant, and the
// events of its create (sequence 1) and of its cancel (sequence 2).
func fixtureIncident(t *testing.T, id string) (*incident.Incident, []outbox.Event) {
	t.Helper()
	now := clock.At(fixtureTime)
	inc := &incident.Incident{ID: id, Category: incident.SOS, Severity: incident.High, Status: incident.Dispatching, Title: "SOS",
		Location: incident.IncidentLocation{Coordinates: geo.NewPoint(6.5, 3.4)}, CreatedAt: now, UpdatedAt: now,
		OrgID: fixtureTenant.OrgID, Environment: fixtureTenant.Env, Sequence: 1}
	data, err := json.Marshal(map[string]any{"incident": inc})
	if err != nil {
		t.Fatal(err)
	}
	events := []outbox.Event{
		{ID: "evt_" + id + "_1", OrgID: inc.OrgID, Environment: string(inc.Environment), Type: incident.TypeCreated,
			SubjectID: id, Sequence: 1, Data: data, CreatedAt: fixtureTime},
		{ID: "evt_" + id + "_2", OrgID: inc.OrgID, Environment: string(inc.Environment), Type: incident.TypeCancelled,
			SubjectID: id, Sequence: 2, Data: data, CreatedAt: fixtureTime},
	}
	return inc, events
}

// checkSubjects fails unless events are want's, in order, each with its
// subject and sequence.
func checkSubjects(t *testing.T, read string, events []outbox.Event, want ...outbox.Event) {
	t.Helper()
	if len(events) != len(want) {
		t.Fatalf("%s: %d events, want %d", read, len(events), len(want))
	}
	for i, ev := range events {
		if ev.ID != want[i].ID || ev.SubjectID != want[i].SubjectID || ev.Sequence != want[i].Sequence {
			t.Fatalf("%s: event %d is %s of %q, sequence %d; want %s of %q, sequence %d", read, i,
				ev.ID, ev.SubjectID, ev.Sequence, want[i].ID, want[i].SubjectID, want[i].Sequence)
		}
	}
}

// The sequencer writes each event's subject and sequence into its log row
// (migration 0028), for the readers that need them and not the event's
// data.
func TestSequencerWritesSubjectsIntoTheLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, events := createdAndSequenced(t)
	for _, ev := range events {
		var subject string
		var sequence int64
		if err := db.pool.QueryRow(ctx, `SELECT subject_id, sequence FROM outbox_log WHERE event_id = $1`, ev.ID).Scan(&subject, &sequence); err != nil ||
			subject != ev.SubjectID || sequence != ev.Sequence {
			t.Fatalf("%s's log row holds subject %q, sequence %d (%v); want %q, %d", ev.Type, subject, sequence, err, ev.SubjectID, ev.Sequence)
		}
	}
}

// A create's brief is read from the log (its subject, migration 0028) and
// the incident's row, and envelopes from the log alone: they are read even
// with the event's row gone. The cancel's data still comes from its row.
func TestBriefsAndEnvelopesReadTheLogNotTheEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, events := createdAndSequenced(t)
	if _, err := db.pool.Exec(ctx, `DELETE FROM outbox_events WHERE id = $1`, events[0].ID); err != nil {
		t.Fatal(err)
	}
	log := db.EventLog()
	briefs, _, err := log.EventsAfter(ctx, 0, outbox.Filter{Brief: true, Positions: []int64{1, 2}, Through: 2}, 10)
	if err != nil {
		t.Fatal(err)
	}
	checkSubjects(t, "briefs", briefs, events...)
	if briefs[0].Brief == nil || briefs[0].Brief.Category != string(incident.SOS) || briefs[1].Brief != nil || len(briefs[1].Data) == 0 {
		t.Fatalf("briefs: the create's brief %+v, the cancel's %+v with %d bytes; want the create's, and the cancel's data",
			briefs[0].Brief, briefs[1].Brief, len(briefs[1].Data))
	}
	envelopes, _, err := log.EventsAfter(ctx, 0, outbox.Filter{Envelopes: true}, 10)
	if err != nil {
		t.Fatal(err)
	}
	checkSubjects(t, "envelopes", envelopes, events...)
	bare, _, err := log.EventsAfter(ctx, 0, outbox.Filter{Envelopes: true, Bare: true}, 10)
	if err != nil {
		t.Fatal(err)
	}
	checkSubjects(t, "bare envelopes", bare, events...)
}

// createdAndSequenced creates an incident (inc_logged) on a database of
// its own and positions its events: the database and the events.
func createdAndSequenced(t *testing.T) (*DB, []outbox.Event) {
	t.Helper()
	ctx := context.Background()
	db := openWithOrg(t, pgtest.URL(t))
	inc, events := fixtureIncident(t, "inc_logged")
	if _, _, err := db.IncidentStore().CreateIncident(ctx, inc, incident.Effects{Events: events}); err != nil {
		t.Fatal(err)
	}
	if err := db.sequence(ctx); err != nil {
		t.Fatal(err)
	}
	return db, events
}

package postgres

import (
	"context"
	"testing"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/pgtest"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
)

// A create without an idempotency key is one batch without BEGIN and
// COMMIT (txn.implicit). When a statement after the incident's insert
// fails (here its event's insert, on an event id already stored), the
// whole batch rolls back: no incident, no count, no event; and the
// connection goes back to the pool fit for the next create, which
// commits.
func TestImplicitTransactionIsAllOrNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openWithOrg(t, pgtest.URL(t))
	st := db.IncidentStore()
	newIncident := func(id string) *incident.Incident {
		now := clock.At(fixtureTime)
		return &incident.Incident{ID: id, Category: incident.SOS, Severity: incident.High, Status: incident.Dispatching, Title: "SOS",
			Location: incident.IncidentLocation{Coordinates: geo.NewPoint(6.5, 3.4)}, CreatedAt: now, UpdatedAt: now,
			OrgID: fixtureTenant.OrgID, Environment: fixtureTenant.Env, Sequence: 1}
	}
	total := func() int {
		t.Helper()
		_, n, err := st.ListIncidents(ctx, fixtureTenant, incident.Filter{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	first := newIncident("inc_0000000000000001")
	if _, _, err := st.CreateIncident(ctx, first, incident.Effects{Events: []outbox.Event{fixtureEvent("evt_0000000000000001")}}); err != nil {
		t.Fatal(err)
	}
	clash := newIncident("inc_0000000000000002")
	taken := fixtureEvent("evt_0000000000000001") // the first create's event id
	taken.SubjectID = clash.ID
	if _, _, err := st.CreateIncident(ctx, clash, incident.Effects{Events: []outbox.Event{taken}}); err == nil {
		t.Fatal("a create whose event id is taken succeeded")
	}
	if _, err := st.GetIncident(ctx, fixtureTenant, clash.ID); !setyerr.Is(err, setyerr.NotFound) {
		t.Fatalf("the incident of a failed create: %v, want not found", err)
	}
	if got := total(); got != 1 {
		t.Fatalf("total after a failed create = %d, want 1", got)
	}
	var events int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM outbox_events WHERE subject_id = $1`, clash.ID).Scan(&events); err != nil || events != 0 {
		t.Fatalf("events of the failed create: %d (%v), want 0", events, err)
	}

	// Every pooled connection serves a create again, each one committed.
	for _, id := range []string{"inc_0000000000000003", "inc_0000000000000004", "inc_0000000000000005"} {
		if _, _, err := st.CreateIncident(ctx, newIncident(id), incident.Effects{Events: []outbox.Event{fixtureEvent("evt" + id[3:])}}); err != nil {
			t.Fatal(err)
		}
	}
	if got := total(); got != 4 {
		t.Fatalf("total = %d, want 4", got)
	}
}

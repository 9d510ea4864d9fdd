package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
)

// TestOutbox checks that events round-trip through the outbox in commit
// order and that a subject's sequence numbers never repeat.
func TestOutbox(t *testing.T, newStores NewStores, f Features) {
	newStores = seeded(newStores)
	ctx := context.Background()

	t.Run("EventsRoundTripOldestFirst", func(t *testing.T) {
		t.Parallel()
		stores := newStores(t)
		st := stores.IncidentStore()
		var want []outbox.Event
		for i := range 3 {
			inc := newIncident(t, tenantA, base.Add(time.Duration(i)*time.Second))
			ev := eventFor(t, incident.TypeCreated, inc)
			_, _, err := st.CreateIncident(ctx, inc, withEvents(ev))
			must(t, err)
			want = append(want, ev)
		}
		got, err := stores.OutboxReader().PendingEvents(ctx, 10)
		must(t, err)
		sameJSON(t, "events", normalize(got), normalize(want))
		// A subject's sequence numbers never repeat.
		dup := newIncident(t, tenantA, base)
		ev := eventFor(t, incident.TypeCreated, dup)
		ev.SubjectID, ev.Sequence = want[0].SubjectID, want[0].Sequence
		if _, _, err := st.CreateIncident(ctx, dup, withEvents(ev)); err == nil {
			t.Fatal("a repeated subject sequence was stored")
		}
		if _, err := st.GetIncident(ctx, tenantA, dup.ID); !setyerr.Is(err, setyerr.NotFound) {
			t.Fatal("a failed create left its incident behind")
		}
		// Nor does an event id.
		ev = eventFor(t, incident.TypeCreated, dup)
		ev.ID = want[1].ID
		_, _, err = st.CreateIncident(ctx, dup, withEvents(ev))
		wantKind(t, err, setyerr.Conflict)
		two, err := stores.OutboxReader().PendingEvents(ctx, 2)
		must(t, err)
		if len(two) != 2 || two[0].ID != want[0].ID {
			t.Fatalf("limit 2 gave %d events starting %v", len(two), two)
		}
	})
}

// normalize makes events comparable: Data compared as text.
func normalize(events []outbox.Event) []map[string]any {
	out := make([]map[string]any, len(events))
	for i, ev := range events {
		out[i] = map[string]any{
			"id": ev.ID, "org": ev.OrgID, "env": ev.Environment, "type": ev.Type, "subject": ev.SubjectID,
			"seq": ev.Sequence, "data": string(ev.Data), "at": ev.CreatedAt.UTC(),
		}
	}
	return out
}

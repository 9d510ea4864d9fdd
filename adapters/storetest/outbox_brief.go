package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
)

// testBriefs reads the log with Filter.Brief and without: the same events
// in the same order, each create either with its full data or with a brief
// (no data) holding its snapshot's values; every other event with its data.
func testBriefs(t *testing.T, newStores NewStores) {
	t.Parallel()
	ctx := context.Background()
	stores := newStores(t)
	for i, drill := range []bool{false, true, false} {
		inc := newIncident(t, tenantA, base.Add(time.Duration(i)*time.Second+1500*time.Microsecond))
		inc.IsDrill, inc.Location.Coordinates = drill, geo.NewPoint(-33.8688197+float64(i), 151.2092955)
		if i == 2 {
			inc.Category, inc.Severity = incident.SOS, incident.Low
		}
		created := eventFor(t, incident.TypeCreated, inc)
		_, _, err := stores.IncidentStore().CreateIncident(ctx, inc, withEvents(created, eventForSeq(t, incident.TypeCancelled, inc, 2)))
		must(t, err)
	}
	full, fullNext, err := stores.EventLog().EventsAfter(ctx, 0, outbox.Filter{}, 100)
	must(t, err)
	briefs, briefsNext, err := stores.EventLog().EventsAfter(ctx, 0, outbox.Filter{Brief: true}, 100)
	must(t, err)
	if len(full) != 6 || len(briefs) != len(full) || briefsNext != fullNext {
		t.Fatalf("%d events with briefs (next %d), %d without (next %d); want 6, the same next", len(briefs), briefsNext, len(full), fullNext)
	}
	for i, ev := range briefs {
		want := full[i]
		if ev.ID != want.ID || ev.Position != want.Position || ev.Type != want.Type || ev.SubjectID != want.SubjectID || ev.Sequence != want.Sequence {
			t.Fatalf("event %d with briefs %+v, without %+v", i, ev, want)
		}
		if ev.Brief == nil {
			if string(ev.Data) != string(want.Data) || want.Brief != nil {
				t.Fatalf("%s without a brief: data %s, want %s", ev.Type, ev.Data, want.Data)
			}
			continue
		}
		if ev.Type != incident.TypeCreated || ev.Data != nil {
			t.Fatalf("a brief on %s, with data %s: only a create's, in place of its data", ev.Type, ev.Data)
		}
		var snapshot struct {
			Incident struct {
				Category incident.Category `json:"category"`
				Severity incident.Severity `json:"severity"`
				Location struct {
					Coordinates geo.Point `json:"coordinates"`
				} `json:"location"`
				IsDrill   bool       `json:"is_drill"`
				CreatedAt clock.Time `json:"created_at"`
			} `json:"incident"`
		}
		must(t, json.Unmarshal(want.Data, &snapshot))
		s, b := snapshot.Incident, ev.Brief
		// The snapshot writes times to the millisecond; a brief may be finer.
		if b.Category != string(s.Category) || b.Severity != string(s.Severity) || b.Location != s.Location.Coordinates ||
			b.IsDrill != s.IsDrill || !b.CreatedAt.Truncate(time.Millisecond).Equal(s.CreatedAt.Time) {
			t.Fatalf("brief %+v, snapshot %s", *b, want.Data)
		}
	}
}

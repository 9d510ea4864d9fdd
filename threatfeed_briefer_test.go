package sety

import (
	"context"
	"slices"
	"testing"

	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/threat"
)

// From a store that reads briefs by subject (outbox.Briefer), the feed
// takes another instance's creates' briefs so, and reads from the log
// again only what they leave: the cancel, and the create whose incident
// the store no longer holds. The engine ends as a load from the store
// gives, every create counted once.
func TestThreatFeedReadsOtherCreatesBriefsBySubject(t *testing.T) {
	ctx := context.Background()
	st, live := memoryWithOrg(t)
	log := &briefsBySubject{filtersSeen: filtersSeen{Log: st.EventLog()}, held: map[string]outbox.Brief{}}
	engine := threat.NewEngine(threat.Config{})
	f := newThreatFollower(engine, log)
	here := incident.NewService(st.IncidentStore(), incident.Config{Responders: st.ResponderStore(), Observe: f.remember})
	elsewhere := incident.NewService(st.IncidentStore(), incident.Config{Responders: st.ResponderStore()})
	req := incident.CreateIncidentRequest{Category: incident.Vehicle, Location: incident.Location{Coordinates: geo.NewPoint(6.45, 3.39)}}
	var made []*incident.Incident
	for _, svc := range []*incident.Service{elsewhere, here, elsewhere, elsewhere} {
		inc, _, err := svc.Create(ctx, live, req)
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, inc)
	}
	// The store holds the first and third incidents made elsewhere, not
	// the fourth (as if deleted since its create).
	for _, inc := range []*incident.Incident{made[0], made[2]} {
		log.held[inc.ID] = outbox.Brief{Category: string(inc.Category), Severity: string(inc.Severity), Location: inc.Location.Coordinates,
			IsDrill: inc.IsDrill, CreatedAt: inc.CreatedAt.Time}
	}
	if _, err := elsewhere.Cancel(ctx, live, made[1].ID, incident.CancelIncidentRequest{Reason: "prank", ReasonCode: incident.CancelFalseAlarm}); err != nil {
		t.Fatal(err)
	}
	if more, err := f.catchUp(ctx); more || err != nil {
		t.Fatalf("catch-up: %v, %v", more, err)
	}
	if want := []string{made[0].ID, made[2].ID, made[3].ID}; len(log.asked) != 1 || !slices.Equal(log.asked[0], want) {
		t.Fatalf("briefs asked for %v, want one read of the creates made elsewhere %v", log.asked, want)
	}
	read, _, err := st.EventLog().EventsAfter(ctx, 0, threatEvents, 10)
	if err != nil || len(read) != 5 {
		t.Fatalf("%d threat events, %v", len(read), err)
	}
	// The log is read again only at the create no brief was found for
	// and the cancel.
	if want := []int64{read[3].Position, read[4].Position}; len(log.filters) != 2 || !slices.Equal(log.filters[1].Positions, want) {
		t.Fatalf("reads %+v, want the second at positions %v", log.filters, want)
	}
	loaded := threat.NewEngine(threat.Config{})
	if _, err := loaded.Load(ctx, st.ThreatSource()); err != nil {
		t.Fatal(err)
	}
	if engine.Len() != 3 || loaded.Len() != 3 {
		t.Fatalf("%d reports followed, %d loaded; want 3 (four creates, one a false alarm)", engine.Len(), loaded.Len())
	}
}

// briefsBySubject is a log that reads briefs by subject from held, and
// records how it was read; its bare reads keep the subjects, as
// PostgreSQL's do from the log (migration 0028).
type briefsBySubject struct {
	filtersSeen
	held  map[string]outbox.Brief
	asked [][]string
}

func (l *briefsBySubject) EventsAfter(ctx context.Context, after int64, f outbox.Filter, limit int) ([]outbox.Event, int64, error) {
	l.filters, l.afters = append(l.filters, f), append(l.afters, after)
	return l.Log.EventsAfter(ctx, after, f, limit)
}

func (l *briefsBySubject) Briefs(_ context.Context, subjects []string) (map[string]outbox.Brief, error) {
	l.asked = append(l.asked, slices.Clone(subjects))
	found := map[string]outbox.Brief{}
	for _, s := range subjects {
		if b, ok := l.held[s]; ok {
			found[s] = b
		}
	}
	return found, nil
}

package sety

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/threat"
)

// The feed applies this process's live creates from what the service told
// it in memory, and that is exactly what decoding their events gives; what
// it was told is dropped once the feed has read to the head, so nothing
// accumulates (also when it was told of an event after reading it).
func TestThreatFeedAppliesCreatesFromMemory(t *testing.T) {
	ctx := context.Background()
	st, live := memoryWithOrg(t)
	engine := threat.NewEngine(threat.Config{})
	f := newThreatFollower(engine, st.EventLog())
	svc := incident.NewService(st.IncidentStore(), incident.Config{Responders: st.ResponderStore(), Observe: f.remember})
	for i, req := range []incident.CreateIncidentRequest{
		{Category: incident.Vehicle, Severity: incident.High},
		{Category: incident.SOS},
		{Category: incident.Medical, IsDrill: true}, // a drill: no threat
	} {
		req.Location = incident.Location{Coordinates: geo.NewPoint(6.45+float64(i)/100, 3.39)}
		if _, _, err := svc.Create(ctx, live, req); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := svc.Create(ctx, auth.Tenant{OrgID: live.OrgID, Env: auth.Test}, incident.CreateIncidentRequest{Category: incident.SOS,
		Location: incident.Location{Coordinates: geo.NewPoint(6.45, 3.39)}}); err != nil {
		t.Fatal(err)
	}

	withData := threatEvents
	withData.Envelopes = false
	events, _, err := st.EventLog().EventsAfter(ctx, 0, withData, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 3 || len(f.created.byID) != 3 {
		t.Fatalf("%d live incident.created events, %d remembered; want 3 and 3", len(events), len(f.created.byID))
	}
	for _, ev := range events {
		told, ok := f.created.byID[ev.ID]
		decoded, _ := decodeIncident(ev)
		want := threatReport(decoded)
		if !ok || told.counts != decoded.CountsAsThreat() || !told.report.At.Equal(want.At) || told.report.Location != want.Location ||
			told.report.Category != want.Category || told.report.Severity != want.Severity {
			t.Errorf("event %s: told %+v (%v), decoded %+v counting %v", ev.ID, told, ok, want, decoded.CountsAsThreat())
		}
	}
	if _, err := f.catchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if engine.Len() != 2 || len(f.created.byID) != 0 {
		t.Fatalf("after the catch-up: %d reports in the engine, %d remembered; want 2 and 0", engine.Len(), len(f.created.byID))
	}

	// Told after the feed read the event: dropped by the next catch-up
	// that reads to the head, never applied twice.
	f.remember(&incident.Incident{Environment: auth.Live}, []outbox.Event{events[0]})
	for range 2 {
		if _, err := f.catchUp(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if engine.Len() != 2 || len(f.created.byID) != 0 {
		t.Fatalf("after a late notice: %d reports in the engine, %d remembered; want 2 and 0", engine.Len(), len(f.created.byID))
	}
}

// The feed reads events without their data and then only the data of
// those it decodes: in one catch-up, a create remembered here is applied
// from memory, another instance's create (not remembered) and a cancel as
// a false alarm from their data, so the engine ends as decoding every
// event would leave it.
func TestThreatFeedReadsOnlyTheDataItDecodes(t *testing.T) {
	ctx := context.Background()
	st, live := memoryWithOrg(t)
	engine := threat.NewEngine(threat.Config{})
	log := &filtersSeen{Log: st.EventLog()}
	f := newThreatFollower(engine, log)
	here := incident.NewService(st.IncidentStore(), incident.Config{Responders: st.ResponderStore(), Observe: f.remember})
	elsewhere := incident.NewService(st.IncidentStore(), incident.Config{Responders: st.ResponderStore()})
	req := incident.CreateIncidentRequest{Category: incident.Vehicle, Location: incident.Location{Coordinates: geo.NewPoint(6.45, 3.39)}}
	if _, _, err := here.Create(ctx, live, req); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, _, err := elsewhere.Create(ctx, live, req); err != nil {
			t.Fatal(err)
		}
	}
	mistaken, _, err := here.Create(ctx, live, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := elsewhere.Cancel(ctx, live, mistaken.ID, incident.CancelIncidentRequest{Reason: "prank", ReasonCode: incident.CancelFalseAlarm}); err != nil {
		t.Fatal(err)
	}
	if len(f.created.byID) != 2 {
		t.Fatalf("%d creates remembered, want 2", len(f.created.byID))
	}
	if more, err := f.catchUp(ctx); more || err != nil {
		t.Fatalf("catch-up: %v, %v", more, err)
	}
	if engine.Len() != 3 || len(f.created.byID) != 0 {
		t.Fatalf("%d reports in the engine (want 3: one create here, two elsewhere), %d remembered (want 0)", engine.Len(), len(f.created.byID))
	}
	// The data read is of the log read already (from the first create
	// elsewhere through the cancel), so a store that orders events after
	// commit runs no sequencer for it.
	read, _, err := st.EventLog().EventsAfter(ctx, 0, threatEvents, 10)
	if err != nil || len(read) != 5 {
		t.Fatalf("%d threat events, %v", len(read), err)
	}
	// Only the events decoded are read again: not the create here
	// between them.
	after, through := read[1].Position-1, read[4].Position
	positions := []int64{read[1].Position, read[2].Position, read[4].Position}
	if len(log.filters) != 2 || !log.filters[0].Bare || log.filters[1].Envelopes || !log.filters[1].Brief || log.filters[1].Through != through || log.afters[1] != after ||
		!slices.Equal(log.filters[1].Positions, positions) {
		t.Fatalf("reads %+v after %v, want envelopes, then data (briefs of creates) at %v after %d through %d", log.filters, log.afters, positions, after, through)
	}
}

// filtersSeen is a log that records how it was read.
type filtersSeen struct {
	outbox.Log
	filters []outbox.Filter
	afters  []int64
}

// EventsAfter answers a bare read as PostgreSQL does (outbox.Filter.Bare):
// without subjects and sequences.
func (l *filtersSeen) EventsAfter(ctx context.Context, after int64, f outbox.Filter, limit int) ([]outbox.Event, int64, error) {
	l.filters, l.afters = append(l.filters, f), append(l.afters, after)
	events, next, err := l.Log.EventsAfter(ctx, after, f, limit)
	if f.Envelopes && f.Bare {
		for i := range events {
			events[i].SubjectID, events[i].Sequence = "", 0
		}
	}
	return events, next, err
}

// A change the engine was loaded with (threat.Checkpoint.Ahead) is known
// by its subject and sequence, which a bare read leaves out: the feed
// reads bare only when no change is ahead, so a create of this process
// that the load counted is skipped, not counted from memory a second time;
// the next read, nothing ahead any more, is bare.
func TestThreatFeedReadsBareOnlyWithNothingAhead(t *testing.T) {
	ctx := context.Background()
	st, live := memoryWithOrg(t)
	engine := threat.NewEngine(threat.Config{})
	log := &filtersSeen{Log: st.EventLog()}
	f := newThreatFollower(engine, log)
	svc := incident.NewService(st.IncidentStore(), incident.Config{Responders: st.ResponderStore(), Observe: f.remember})
	req := incident.CreateIncidentRequest{Category: incident.Vehicle, Location: incident.Location{Coordinates: geo.NewPoint(6.45, 3.39)}}
	loaded, _, err := svc.Create(ctx, live, req)
	if err != nil {
		t.Fatal(err)
	}
	// As if the load's snapshot had held it (and counted it), and the
	// log had placed its event after the load's checkpoint.
	f.ahead = map[threat.Change]struct{}{{Subject: loaded.ID, Sequence: 1}: {}}
	if _, err := f.catchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if engine.Len() != 0 || len(f.ahead) != 0 {
		t.Fatalf("%d reports added, %d changes ahead; want the loaded create skipped once: 0 and 0", engine.Len(), len(f.ahead))
	}
	if _, _, err := svc.Create(ctx, live, req); err != nil {
		t.Fatal(err)
	}
	if _, err := f.catchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if engine.Len() != 1 {
		t.Fatalf("%d reports, want the later create's", engine.Len())
	}
	if len(log.filters) != 2 || log.filters[0].Bare || !log.filters[1].Bare {
		t.Fatalf("reads %+v: want the first (a change ahead) not bare, the second bare", log.filters)
	}
}

// memoryWithOrg is a memory store holding one organization, and its live
// tenant.
func memoryWithOrg(t *testing.T) (*memory.Store, auth.Tenant) {
	t.Helper()
	st := memory.New()
	live := auth.Tenant{OrgID: "org_0000000000000001", Env: auth.Live}
	if err := st.AuthStore().CreateOrganization(context.Background(), &auth.Organization{ID: live.OrgID, Name: "Acme", Plan: auth.Growth,
		Status: auth.Active, CreatedAt: clock.At(time.Now())}); err != nil {
		t.Fatal(err)
	}
	return st, live
}

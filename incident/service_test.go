package incident_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang/mock/gomock"

	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/adapters/mock"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/ids"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
)

var (
	start = time.Date(2026, 3, 10, 14, 22, 5, 412_345_678, time.UTC)
	live  = auth.Tenant{OrgID: "org_0000000000000001", Env: auth.Live}
	test  = auth.Tenant{OrgID: "org_0000000000000001", Env: auth.Test}
)

func lagos() incident.Location { return incident.Location{Coordinates: geo.NewPoint(6.4281, 3.4219)} }

// newService returns a service over a memory store holding the org of live/test.
func newService(t *testing.T, clk *clock.Fake) (*incident.Service, *memory.Store) {
	t.Helper()
	store := memory.New()
	org := &auth.Organization{ID: live.OrgID, Name: "Acme", Plan: auth.Growth, Status: auth.Active, CreatedAt: clock.At(start)}
	if err := store.AuthStore().CreateOrganization(context.Background(), org); err != nil {
		t.Fatal(err)
	}
	return incident.NewService(store.IncidentStore(), incident.Config{Now: clk.Now, NewID: ids.Sequential()}), store
}

func TestCreateDefaults(t *testing.T) {
	clk := clock.NewFake(start)
	svc, _ := newService(t, clk)
	ctx := context.Background()
	tests := []struct {
		category  incident.Category
		severity  incident.Severity
		title     string
		tenant    auth.Tenant
		wantSev   incident.Severity
		wantTitle string
		wantDrill bool
	}{
		{incident.SOS, "", "", live, incident.High, "SOS alert", false},
		{incident.Vehicle, "", "", live, incident.High, "Vehicle emergency", false},
		{incident.Medical, "", "", live, incident.High, "Medical emergency", false},
		{incident.LocationThreat, "", "", live, incident.Medium, "Location threat", false},
		{incident.LocationThreat, incident.Critical, "Armed robbery", live, incident.Critical, "Armed robbery", false},
		{incident.SOS, incident.Low, "", test, incident.Low, "SOS alert", true},
	}
	for _, tt := range tests {
		inc, created, err := svc.Create(ctx, tt.tenant, incident.CreateIncidentRequest{Category: tt.category, Severity: tt.severity, Title: tt.title, Location: lagos()})
		if err != nil {
			t.Fatal(err)
		}
		if !created || inc.Severity != tt.wantSev || inc.Title != tt.wantTitle || inc.IsDrill != tt.wantDrill {
			t.Errorf("%s/%s: created=%v severity=%s title=%q drill=%v, want %s %q %v",
				tt.category, tt.severity, created, inc.Severity, inc.Title, inc.IsDrill, tt.wantSev, tt.wantTitle, tt.wantDrill)
		}
		// A live incident is dispatched in its create (with no pool, it is
		// queued); a drill waits for the simulator.
		wantStatus, wantEvents := incident.Dispatching, []incident.EventName{incident.EventCreated, incident.EventDispatching}
		if tt.wantDrill {
			wantStatus, wantEvents = incident.Created, []incident.EventName{incident.EventCreated}
		}
		var events []incident.EventName
		for _, e := range inc.Timeline {
			events = append(events, e.Event)
		}
		if inc.Status != wantStatus || !slices.Equal(events, wantEvents) {
			t.Errorf("new incident: status %s timeline %+v", inc.Status, inc.Timeline)
		}
		if want := start.Truncate(time.Millisecond); !inc.CreatedAt.Equal(want) || !inc.UpdatedAt.Equal(want) {
			t.Errorf("created_at %v, want the injected clock truncated to ms %v", inc.CreatedAt, want)
		}
		if inc.Subject.Metadata == nil || inc.Description != nil || !inc.ResolvedAt.IsZero() {
			t.Errorf("unset fields: metadata %v description %v resolved_at %v", inc.Subject.Metadata, inc.Description, inc.ResolvedAt)
		}
	}
	// A live key may ask for a drill explicitly.
	inc, _, err := svc.Create(ctx, live, incident.CreateIncidentRequest{Category: incident.SOS, Location: lagos(), IsDrill: true})
	if err != nil || !inc.IsDrill {
		t.Fatalf("live drill: %v, is_drill=%v", err, inc != nil && inc.IsDrill)
	}
}

func str(s string) *string { return &s }

func TestCreateValidation(t *testing.T) {
	ctrl := gomock.NewController(t)
	store := mock.NewIncidentStore(ctrl) // any store call fails the test: invalid input never reaches storage
	svc := incident.NewService(store, incident.Config{})
	long := func(n int) string { return strings.Repeat("é", n) }
	manyKeys := map[string]string{}
	for i := range 51 {
		manyKeys[strings.Repeat("k", 1+i%40)+string(rune('a'+i%26))+string(rune('a'+i/26))] = "v"
	}
	valid := func() incident.CreateIncidentRequest {
		return incident.CreateIncidentRequest{Category: incident.SOS, Location: lagos()}
	}
	tests := []struct {
		field  string
		mutate func(*incident.CreateIncidentRequest)
	}{
		{"category", func(r *incident.CreateIncidentRequest) { r.Category = "" }},
		{"category", func(r *incident.CreateIncidentRequest) { r.Category = "fire" }},
		{"severity", func(r *incident.CreateIncidentRequest) { r.Severity = "extreme" }},
		{"location.coordinates", func(r *incident.CreateIncidentRequest) { r.Location.Coordinates = geo.Point{math.NaN(), 6} }},
		{"location.coordinates", func(r *incident.CreateIncidentRequest) { r.Location.Coordinates = geo.Point{3, math.Inf(-1)} }},
		{"location.coordinates", func(r *incident.CreateIncidentRequest) { r.Location.Coordinates = geo.Point{181, 6} }},
		{"location.coordinates", func(r *incident.CreateIncidentRequest) { r.Location.Coordinates = geo.Point{3, -90.5} }},
		{"location.address", func(r *incident.CreateIncidentRequest) { r.Location.Address = long(501) }},
		{"location.landmark", func(r *incident.CreateIncidentRequest) { r.Location.Landmark = long(201) }},
		{"title", func(r *incident.CreateIncidentRequest) { r.Title = long(201) }},
		{"title", func(r *incident.CreateIncidentRequest) { r.Title = "bad\x00nul" }},
		{"description", func(r *incident.CreateIncidentRequest) { r.Description = long(5001) }},
		{"description", func(r *incident.CreateIncidentRequest) { r.Description = "\xff\xfe" }},
		{"idempotency_key", func(r *incident.CreateIncidentRequest) { r.IdempotencyKey = long(256) }},
		{"subject.phone", func(r *incident.CreateIncidentRequest) { r.Subject = &incident.Subject{Phone: str("08031234567")} }},
		{"subject.phone", func(r *incident.CreateIncidentRequest) { r.Subject = &incident.Subject{Phone: str("+234 803 123")} }},
		{"subject.email", func(r *incident.CreateIncidentRequest) { r.Subject = &incident.Subject{Email: str("not-an-email")} }},
		{"subject.email", func(r *incident.CreateIncidentRequest) {
			r.Subject = &incident.Subject{Email: str("Eze <eze@example.com>")}
		}},
		{"subject.name", func(r *incident.CreateIncidentRequest) { r.Subject = &incident.Subject{Name: str(long(201))} }},
		{"subject.metadata", func(r *incident.CreateIncidentRequest) { r.Subject = &incident.Subject{Metadata: manyKeys} }},
		{"subject.metadata", func(r *incident.CreateIncidentRequest) {
			r.Subject = &incident.Subject{Metadata: map[string]string{strings.Repeat("k", 41): "v"}}
		}},
		{"subject.metadata", func(r *incident.CreateIncidentRequest) {
			r.Subject = &incident.Subject{Metadata: map[string]string{"k": long(501)}}
		}},
	}
	for _, tt := range tests {
		req := valid()
		tt.mutate(&req)
		_, _, err := svc.Create(context.Background(), live, req)
		var e *setyerr.Error
		if !errors.As(err, &e) || e.Kind != setyerr.Invalid || e.Field != tt.field {
			t.Errorf("want Invalid naming %s, got %v", tt.field, err)
		}
	}
}

func TestCreateNotifiesOnlyAfterANewCommit(t *testing.T) {
	ctrl := gomock.NewController(t)
	store := mock.NewIncidentStore(ctrl)
	notifier := mock.NewNotifier(ctrl)
	svc := incident.NewService(store, incident.Config{Notifier: notifier, NewID: ids.Sequential()})
	ctx := context.Background()
	req := incident.CreateIncidentRequest{Category: incident.SOS, Location: lagos(), IdempotencyKey: "trip_1"}

	var written []outbox.Event
	gomock.InOrder(
		store.EXPECT().CreateIncident(ctx, gomock.Any(), gomock.Any()).DoAndReturn(
			func(_ context.Context, inc *incident.Incident, effects incident.Effects) (*incident.Incident, bool, error) {
				written = effects.Events
				return inc, true, nil
			}),
		notifier.EXPECT().Notify(ctx, gomock.Any()).Do(func(_ context.Context, events []outbox.Event) {
			if len(events) != 2 || events[0].ID != written[0].ID || events[0].Type != incident.TypeCreated || events[0].Sequence != 1 ||
				events[1].Type != incident.TypeDispatching || events[1].Sequence != 2 {
				t.Errorf("notified %+v, want the written created and dispatching events", events)
			}
		}),
		// The replay: the store finds the key; nothing new was committed.
		store.EXPECT().CreateIncident(ctx, gomock.Any(), gomock.Any()).Return(&incident.Incident{ID: "inc_0000000000000001"}, false, nil),
		// A failing store: no notification.
		store.EXPECT().CreateIncident(ctx, gomock.Any(), gomock.Any()).Return(nil, false, errors.New("disk I/O error")),
	)
	if _, _, err := svc.Create(ctx, live, req); err != nil {
		t.Fatal(err)
	}
	if _, created, err := svc.Create(ctx, live, req); err != nil || created {
		t.Fatalf("replay: created=%v err=%v", created, err)
	}
	_, _, err := svc.Create(ctx, live, req)
	if setyerr.KindOf(err) != setyerr.Internal {
		t.Fatalf("store failure surfaced as %v, want Internal", err)
	}
}

func TestCancel(t *testing.T) {
	clk := clock.NewFake(start)
	svc, store := newService(t, clk)
	ctx := context.Background()
	inc, _, err := svc.Create(ctx, live, incident.CreateIncidentRequest{Category: incident.SOS, Location: lagos()})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(90 * time.Second)
	got, err := svc.Cancel(ctx, live, inc.ID, incident.CancelIncidentRequest{Reason: "  user confirmed safe "})
	if err != nil {
		t.Fatal(err)
	}
	last := got.Timeline[len(got.Timeline)-1]
	if got.Status != incident.Cancelled || !got.CancelledAt.Equal(clk.Now().Truncate(time.Millisecond)) ||
		last.Event != incident.EventCancelled || last.Message != "Incident cancelled: user confirmed safe" || last.Status != incident.Cancelled {
		t.Fatalf("cancelled incident: status %s cancelled_at %v last %+v", got.Status, got.CancelledAt, last)
	}
	_, err = svc.Cancel(ctx, live, inc.ID, incident.CancelIncidentRequest{})
	if setyerr.KindOf(err) != setyerr.Conflict || !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("second cancel: %v, want Conflict naming the status", err)
	}
	for _, tenant := range []auth.Tenant{test, {OrgID: "org_0000000000000009", Env: auth.Live}} {
		if _, err := svc.Cancel(ctx, tenant, inc.ID, incident.CancelIncidentRequest{}); setyerr.KindOf(err) != setyerr.NotFound {
			t.Fatalf("cancel from %v: %v, want NotFound", tenant, err)
		}
	}
	if _, err := svc.Cancel(ctx, live, "inc_' OR 1=1 --", incident.CancelIncidentRequest{}); setyerr.KindOf(err) != setyerr.NotFound {
		t.Fatalf("malformed id: %v, want NotFound", err)
	}
	events, _ := store.OutboxReader().PendingEvents(ctx, 10)
	if types := typesOf(events); !slices.Equal(types, []string{incident.TypeCreated, incident.TypeDispatching, incident.TypeCancelled}) ||
		events[2].Sequence != 3 || events[2].SubjectID != inc.ID {
		t.Fatalf("events %v, want created, dispatching, then cancelled with sequence 3", types)
	}
}

func TestAddNoteInAnyStatus(t *testing.T) {
	clk := clock.NewFake(start)
	svc, store := newService(t, clk)
	ctx := context.Background()
	inc, _, _ := svc.Create(ctx, live, incident.CreateIncidentRequest{Category: incident.Medical, Location: lagos()})
	if _, err := svc.Cancel(ctx, live, inc.ID, incident.CancelIncidentRequest{}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	got, err := svc.AddNote(ctx, live, inc.ID, "Family called back: all fine")
	if err != nil {
		t.Fatal(err)
	}
	last := got.Timeline[len(got.Timeline)-1]
	if last.Event != incident.EventNoteAdded || last.Message != "Family called back: all fine" || last.Status != incident.Cancelled || len(got.Timeline) != 4 {
		t.Fatalf("timeline %+v", got.Timeline)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("x", 2001)} {
		if _, err := svc.AddNote(ctx, live, inc.ID, bad); setyerr.KindOf(err) != setyerr.Invalid {
			t.Fatalf("note %q: %v, want Invalid", bad[:min(len(bad), 10)], err)
		}
	}
	events, _ := store.OutboxReader().PendingEvents(ctx, 10)
	if types := typesOf(events); len(events) != 4 || events[3].Type != incident.TypeNoteAdded || events[3].Sequence != 4 {
		t.Fatalf("events %v", types)
	}
}

// A filter is refused unless its paging is in range and its lists hold
// known values, each once: a store never sees a list longer than its enum.
func TestListValidatesPagingAndFilters(t *testing.T) {
	svc, _ := newService(t, clock.NewFake(start))
	for _, f := range []incident.Filter{{Limit: 0}, {Limit: 101}, {Limit: 10, Offset: -1}, {Limit: 10, From: start, To: start.Add(-time.Second)},
		{Limit: 10, Statuses: []incident.Status{incident.Created, incident.Created}}, {Limit: 10, Categories: []incident.Category{"fire"}},
		{Limit: 10, Severities: []incident.Severity{incident.High, "high"}}} {
		if _, _, err := svc.List(context.Background(), live, f); setyerr.KindOf(err) != setyerr.Invalid {
			t.Errorf("List(%+v) = %v, want Invalid", f, err)
		}
	}
}

// typesOf lists the types of events, in order.
func typesOf(events []outbox.Event) []string {
	out := make([]string, len(events))
	for i, ev := range events {
		out[i] = ev.Type
	}
	return out
}

package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
)

func ptr[T any](v T) *T { return &v }

// newIncident returns a fully populated incident of tenant created at at.
func newIncident(t testing.TB, tenant auth.Tenant, at time.Time) *incident.Incident {
	now := clock.At(at)
	return &incident.Incident{
		ID:          fixtureID(t, "inc"),
		Category:    incident.Vehicle,
		Severity:    incident.Critical,
		Status:      incident.Created,
		Subject:     incident.Subject{Name: ptr("Chidinma Eze"), Phone: ptr("+2348031234567"), Reference: ptr("RIDER-30417"), Metadata: map[string]string{"vehicle_plate": "KJA-318-XF"}},
		Title:       "Vehicle emergency",
		Description: ptr("Rider pressed the panic button — ‘quoted’ 'single' \"double\"; DROP TABLE incidents;--"),
		Location:    incident.IncidentLocation{Coordinates: geo.NewPoint(6.4281, 3.4219), Address: ptr("22 Adeola Odeku Street"), Landmark: nil},
		Timeline:    []incident.IncidentTimelineEvent{{Status: incident.Created, Event: incident.EventCreated, Message: "Incident received", Timestamp: now}},
		CreatedAt:   now,
		UpdatedAt:   now,
		OrgID:       tenant.OrgID,
		Environment: tenant.Env,
		Sequence:    1,
	}
}

func eventFor(t testing.TB, typ string, inc *incident.Incident) outbox.Event {
	data, err := json.Marshal(map[string]any{"incident": inc})
	must(t, err)
	return outbox.Event{
		ID: fixtureID(t, "evt"), OrgID: inc.OrgID, Environment: string(inc.Environment), Type: typ,
		SubjectID: inc.ID, Sequence: inc.Sequence, Data: data, CreatedAt: inc.UpdatedAt.Time,
	}
}

func create(t testing.TB, st incident.Store, inc *incident.Incident) *incident.Incident {
	t.Helper()
	got, created, err := st.CreateIncident(context.Background(), inc, withEvents(eventFor(t, incident.TypeCreated, inc)))
	must(t, err)
	if !created {
		t.Fatalf("CreateIncident(%s) created = false", inc.ID)
	}
	return got
}

// TestIncidents checks the incident store: exact round trips and copies,
// tenant isolation, idempotency keys (also under concurrent creates),
// filtered and paged lists, and updates that commit their events atomically
// and serialize.
func TestIncidents(t *testing.T, newStores NewStores, f Features) {
	newStores = seeded(newStores)
	ctx := context.Background()

	t.Run("Leases", single(newStores, testLeases))
	t.Run("SharedLeases", shared(newStores, f, testLeases))

	t.Run("CreateThenGetRoundTrips", func(t *testing.T) {
		t.Parallel()
		st := newStores(t).IncidentStore()
		inc := newIncident(t, tenantA, base)
		inc.SLA = &incident.SLA{AssignTargetSeconds: 60, ArriveTargetSeconds: 480, AssignBy: clock.At(base.Add(time.Minute)), ArriveBy: clock.At(base.Add(8 * time.Minute)), TimeToAssignSeconds: ptr(12.5), State: "on_track"}
		inc.Responder = &incident.ResponderAssignment{ResponderID: "rsp_0000000000000001", Name: "Unit 7", Location: geo.NewPoint(6.43, 3.42), DistanceMeters: 812.5, ETASeconds: 97.5, AssignedAt: clock.At(base.Add(time.Second))}
		want := inc.Clone()
		got := create(t, st, inc)
		sameJSON(t, "created", got, want)
		got, err := st.GetIncident(ctx, tenantA, inc.ID)
		must(t, err)
		sameJSON(t, "stored", got, want)
		if got.OrgID != tenantA.OrgID || got.Environment != auth.Live || got.Sequence != 1 {
			t.Fatalf("hidden fields lost: org %q env %q seq %d", got.OrgID, got.Environment, got.Sequence)
		}
	})

	t.Run("ReturnedValuesAreCopies", func(t *testing.T) {
		t.Parallel()
		st := newStores(t).IncidentStore()
		inc := newIncident(t, tenantA, base)
		want := inc.Clone()
		got := create(t, st, inc)
		inc.Subject.Metadata["vehicle_plate"] = "changed"
		inc.Timeline[0].Message = "changed"
		got.Timeline = append(got.Timeline, incident.IncidentTimelineEvent{Event: "note_added"})
		*got.Subject.Name = "changed"
		again, err := st.GetIncident(ctx, tenantA, inc.ID)
		must(t, err)
		sameJSON(t, "stored after caller mutations", again, want)
		again.Subject.Metadata["x"] = "y"
		third, err := st.GetIncident(ctx, tenantA, inc.ID)
		must(t, err)
		sameJSON(t, "stored after mutating a read", third, want)
	})

	t.Run("OtherTenantsSeeNotFound", func(t *testing.T) {
		t.Parallel()
		st := newStores(t).IncidentStore()
		inc := create(t, st, newIncident(t, tenantA, base))
		for _, other := range []auth.Tenant{tenantB, tenantATest} {
			_, err := st.GetIncident(ctx, other, inc.ID)
			wantKind(t, err, setyerr.NotFound)
			_, err = st.UpdateIncident(ctx, other, inc.ID, func(*incident.Incident) (incident.Effects, error) {
				t.Fatal("change called for another tenant's incident")
				return incident.Effects{}, nil
			})
			wantKind(t, err, setyerr.NotFound)
			items, total, err := st.ListIncidents(ctx, other, incident.Filter{Limit: 10})
			must(t, err)
			if total != 0 || len(items) != 0 {
				t.Fatalf("tenant %v lists %d incidents of another tenant", other, total)
			}
		}
		_, err := st.GetIncident(ctx, tenantA, "inc_nonexistent00000")
		wantKind(t, err, setyerr.NotFound)
		orphan := newIncident(t, auth.Tenant{OrgID: "org_dddddddddddddddd", Env: auth.Live}, base)
		if _, _, err := st.CreateIncident(ctx, orphan, withEvents(eventFor(t, incident.TypeCreated, orphan))); err == nil {
			t.Fatal("an incident of an organization that does not exist was stored")
		}
	})

	t.Run("IdempotencyKeyReturnsExisting", func(t *testing.T) {
		t.Parallel()
		stores := newStores(t)
		st := stores.IncidentStore()
		first := newIncident(t, tenantA, base)
		first.IdempotencyKey = ptr("trip_7f3k92lq")
		create(t, st, first)

		again := newIncident(t, tenantA, base.Add(time.Minute))
		again.IdempotencyKey = ptr("trip_7f3k92lq")
		again.Category = incident.Medical
		got, created, err := st.CreateIncident(ctx, again, withEvents(eventFor(t, incident.TypeCreated, again)))
		must(t, err)
		if created || got.ID != first.ID || got.Category != incident.Vehicle {
			t.Fatalf("replay: created=%v id=%s category=%s, want the first incident", created, got.ID, got.Category)
		}
		// The same key in another environment or organization is a new incident.
		for _, other := range []auth.Tenant{tenantATest, tenantB} {
			inc := newIncident(t, other, base)
			inc.IdempotencyKey = ptr("trip_7f3k92lq")
			create(t, st, inc)
		}
		pending(t, stores, 3) // the replay writes none
	})

	t.Run("ConcurrentIdenticalCreatesMakeOne", single(newStores, raceCreates))
	t.Run("SharedIdempotencyKey", shared(newStores, f, raceCreates))

	t.Run("List", func(t *testing.T) { testList(t, newStores) })

	t.Run("UpdateAppliesChangeAndEvents", func(t *testing.T) {
		t.Parallel()
		stores := newStores(t)
		st := stores.IncidentStore()
		inc := create(t, st, newIncident(t, tenantA, base))
		later := clock.At(base.Add(time.Minute))
		got, err := st.UpdateIncident(ctx, tenantA, inc.ID, func(cur *incident.Incident) (incident.Effects, error) {
			cur.Status = incident.Cancelled
			cur.CancelledAt = later
			cur.UpdatedAt = later
			cur.Sequence++
			cur.Timeline = append(cur.Timeline, incident.IncidentTimelineEvent{Status: incident.Cancelled, Event: incident.EventCancelled, Message: "Incident cancelled", Timestamp: later})
			return incident.Effects{Events: []outbox.Event{eventFor(t, incident.TypeCancelled, cur)}}, nil
		})
		must(t, err)
		stored, err := st.GetIncident(ctx, tenantA, inc.ID)
		must(t, err)
		sameJSON(t, "after update", stored, got)
		if stored.Status != incident.Cancelled || stored.Sequence != 2 || len(stored.Timeline) != 2 || !stored.CancelledAt.Equal(later.Time) {
			t.Fatalf("update not stored: %+v", stored)
		}
		if events := pending(t, stores, 2); events[1].Type != incident.TypeCancelled || events[1].Sequence != 2 {
			t.Fatalf("events = %+v, want created then cancelled", events)
		}
	})

	t.Run("FailedChangeWritesNothing", func(t *testing.T) {
		t.Parallel()
		stores := newStores(t)
		st := stores.IncidentStore()
		inc := create(t, st, newIncident(t, tenantA, base))
		boom := errors.New("boom")
		_, err := st.UpdateIncident(ctx, tenantA, inc.ID, func(cur *incident.Incident) (incident.Effects, error) {
			cur.Status = incident.Resolved
			return incident.Effects{}, boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want the change's error", err)
		}
		stored, err := st.GetIncident(ctx, tenantA, inc.ID)
		must(t, err)
		sameJSON(t, "after failed update", stored, inc)
		pending(t, stores, 1) // only the created event
	})

	t.Run("EncodedJSON", func(t *testing.T) { testEncodedJSON(t, newStores) })
	t.Run("ConcurrentUpdatesAreSerialized", single(newStores, serializeUpdates))
	t.Run("SharedUpdatesAreSerialized", shared(newStores, f, serializeUpdates))
	t.Run("ReadsSeeChanges", single(newStores, readsSeeChanges))
	t.Run("ReadsSeeOtherHandlesChanges", shared(newStores, f, readsSeeChanges))
}

// raceCreates creates incidents with one idempotency key at once, through
// the handles in turn, and checks that exactly one incident and one event
// were stored and that every create returned it.
func raceCreates(t *testing.T, handles []Stores) {
	ctx := context.Background()
	const n = 16
	var wg sync.WaitGroup
	ids := make([]string, n)
	createdCount := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		inc := newIncident(t, tenantA, base)
		inc.IdempotencyKey = ptr("session_44c1a9e2")
		ev := eventFor(t, incident.TypeCreated, inc)
		st := handles[i%len(handles)].IncidentStore()
		wg.Go(func() {
			got, created, err := st.CreateIncident(ctx, inc, withEvents(ev))
			errs[i] = err
			if err == nil {
				ids[i], createdCount[i] = got.ID, created
			}
		})
	}
	wg.Wait()
	created := 0
	for i := range n {
		must(t, errs[i])
		if ids[i] != ids[0] {
			t.Fatalf("creates returned different incidents: %s and %s", ids[0], ids[i])
		}
		if createdCount[i] {
			created++
		}
	}
	if created != 1 {
		t.Fatalf("%d creates reported created, want exactly 1", created)
	}
	for _, h := range handles {
		_, total, err := h.IncidentStore().ListIncidents(ctx, tenantA, incident.Filter{Limit: 100})
		must(t, err)
		if total != 1 {
			t.Fatalf("%d incidents stored, want 1", total)
		}
		pending(t, h, 1)
	}
}

// serializeUpdates updates one incident twenty times at once, through the
// handles in turn, each update adding a note and its event, and checks that
// no update was lost and no sequence number used twice.
func serializeUpdates(t *testing.T, handles []Stores) {
	ctx := context.Background()
	inc := create(t, handles[0].IncidentStore(), newIncident(t, tenantA, base))
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		st := handles[i%len(handles)].IncidentStore()
		wg.Go(func() {
			_, errs[i] = st.UpdateIncident(ctx, tenantA, inc.ID, func(cur *incident.Incident) (incident.Effects, error) {
				cur.Sequence++
				cur.Timeline = append(cur.Timeline, incident.IncidentTimelineEvent{Status: cur.Status, Event: incident.EventNoteAdded, Message: "note", Timestamp: cur.UpdatedAt})
				return incident.Effects{Events: []outbox.Event{eventFor(t, incident.TypeNoteAdded, cur)}}, nil
			})
		})
	}
	wg.Wait()
	for _, err := range errs {
		must(t, err)
	}
	last := handles[len(handles)-1]
	stored, err := last.IncidentStore().GetIncident(ctx, tenantA, inc.ID)
	must(t, err)
	if len(stored.Timeline) != n+1 || stored.Sequence != n+1 {
		t.Fatalf("timeline %d, sequence %d; want %d and %d: an update was lost", len(stored.Timeline), stored.Sequence, n+1, n+1)
	}
	seen := map[int64]bool{}
	for _, ev := range pending(t, last, n+1) {
		if seen[ev.Sequence] {
			t.Fatalf("sequence %d used twice", ev.Sequence)
		}
		seen[ev.Sequence] = true
	}
	if len(seen) != n+1 {
		t.Fatalf("%d distinct sequences, want %d", len(seen), n+1)
	}
}

// readsSeeChanges reads an incident through the first handle (get, list
// and the due query), changes it through the last without a new sequence
// number (as the engine moves a due time), and checks that every read
// through the first handle sees the change: an adapter may keep what it
// read, but never serve it once the row has changed.
func readsSeeChanges(t *testing.T, handles []Stores) {
	ctx := context.Background()
	reader, writer := handles[0].IncidentStore(), handles[len(handles)-1].IncidentStore()
	inc := newIncident(t, tenantA, base)
	inc.Tracking.DueAt = base
	inc = create(t, reader, inc)
	read := func() []*incident.Incident {
		got, err := reader.GetIncident(ctx, tenantA, inc.ID)
		must(t, err)
		listed, _, err := reader.ListIncidents(ctx, tenantA, incident.Filter{Limit: 1})
		must(t, err)
		due, err := reader.DueIncidents(ctx, base.Add(time.Hour), 1)
		must(t, err)
		if len(listed) != 1 || len(due) != 1 {
			t.Fatalf("listed %d, due %d; want 1 and 1", len(listed), len(due))
		}
		return []*incident.Incident{got, listed[0], due[0]}
	}
	read()
	read() // a second read, which a cache may answer
	changed, err := writer.UpdateIncident(ctx, tenantA, inc.ID, func(cur *incident.Incident) (incident.Effects, error) {
		cur.Title = "Changed elsewhere"
		cur.Tracking.DueAt = base.Add(time.Minute)
		return incident.Effects{}, nil
	})
	must(t, err)
	for _, got := range read() {
		sameJSON(t, "incident read after a change", got, changed)
		if !got.Tracking.DueAt.Equal(changed.Tracking.DueAt) {
			t.Fatalf("due at %v after the change, want %v", got.Tracking.DueAt, changed.Tracking.DueAt)
		}
	}
}

// withEvents are the effects of a change that only writes events.
func withEvents(events ...outbox.Event) incident.Effects { return incident.Effects{Events: events} }

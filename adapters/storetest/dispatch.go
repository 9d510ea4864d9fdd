package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
	"github.com/sety-io/sety/threat"
)

// TestDispatch checks what the dispatch engine needs of the stores: due and
// queued incidents, the responder pool and its nearest-available search,
// claims and releases of responders inside incident updates, analytics and
// the threat source.
func TestDispatch(t *testing.T, newStores NewStores, f Features) {
	newStores = seeded(newStores)
	ctx := context.Background()

	t.Run("TrackingRoundTrips", func(t *testing.T) {
		t.Parallel()
		st := newStores(t).IncidentStore()
		inc := newIncident(t, tenantA, base)
		inc.Tracking = incident.Tracking{AssignBreached: true, Simulated: true, DueAt: base.Add(time.Minute)}
		create(t, st, inc)
		got, err := st.GetIncident(ctx, tenantA, inc.ID)
		must(t, err)
		if !reflect.DeepEqual(got.Tracking, inc.Tracking) {
			t.Fatalf("tracking %+v, want %+v", got.Tracking, inc.Tracking)
		}
	})

	t.Run("DueIncidents", func(t *testing.T) {
		t.Parallel()
		st := newStores(t).IncidentStore()
		mk := func(tenant auth.Tenant, due time.Time, status incident.Status) string {
			inc := newIncident(t, tenant, base)
			inc.Status, inc.Tracking.DueAt = status, due
			return create(t, st, inc).ID
		}
		late := mk(tenantA, base.Add(-time.Minute), incident.Dispatching)
		now := mk(tenantB, base, incident.Created)
		mk(tenantA, base.Add(time.Millisecond), incident.Assigned) // not yet due
		mk(tenantA, time.Time{}, incident.Assigned)                // never due
		mk(tenantA, base.Add(-time.Hour), incident.Resolved)       // ended
		got, err := st.DueIncidents(ctx, base, 10)
		must(t, err)
		if ids := idsOf(got); fmt.Sprint(ids) != fmt.Sprint([]string{late, now}) {
			t.Fatalf("due %v, want %v", ids, []string{late, now})
		}
		one, err := st.DueIncidents(ctx, base, 1)
		must(t, err)
		if len(one) != 1 || one[0].ID != late {
			t.Fatalf("limit 1 gave %v", idsOf(one))
		}
	})

	t.Run("QueuedNear", func(t *testing.T) {
		t.Parallel()
		st := newStores(t).IncidentStore()
		mk := func(tenant auth.Tenant, sev incident.Severity, at time.Duration, status incident.Status, drill bool, where geo.Point) string {
			inc := newIncident(t, tenant, base.Add(at))
			inc.Severity, inc.Status, inc.IsDrill, inc.Location.Coordinates = sev, status, drill, where
			return create(t, st, inc).ID
		}
		lekki := geo.NewPoint(6.4281, 3.4219)
		north := geo.NewPoint(6.4281+5_000/111195.0, 3.4219) // 5 km north
		far := geo.NewPoint(6.4281+60_000/111195.0, 3.4219)  // 60 km north
		highOld := mk(tenantA, incident.High, 0, incident.Dispatching, false, lekki)
		lowOld := mk(tenantA, incident.Low, -time.Hour, incident.Dispatching, false, north)
		critical := mk(tenantA, incident.Critical, time.Minute, incident.Dispatching, false, north)
		highNew := mk(tenantA, incident.High, time.Second, incident.Dispatching, false, lekki)
		mk(tenantA, incident.Critical, 0, incident.Dispatching, false, far)  // out of reach
		mk(tenantA, incident.Critical, 0, incident.Dispatching, true, lekki) // drills never queue for the pool
		mk(tenantA, incident.Critical, 0, incident.Assigned, false, lekki)
		mk(tenantB, incident.Critical, 0, incident.Dispatching, false, lekki)
		mk(tenantATest, incident.Critical, 0, incident.Dispatching, false, lekki)
		got, err := st.QueuedNear(ctx, tenantA, lekki, 50_000, 10)
		must(t, err)
		want := []string{critical, highOld, highNew, lowOld}
		if fmt.Sprint(idsOf(got)) != fmt.Sprint(want) {
			t.Fatalf("queue near %v, want most severe then oldest %v", idsOf(got), want)
		}
		if got, _ := st.QueuedNear(ctx, tenantA, lekki, 50_000, 2); fmt.Sprint(idsOf(got)) != fmt.Sprint(want[:2]) {
			t.Fatalf("limit 2 gave %v", idsOf(got))
		}
		if got, _ := st.QueuedNear(ctx, tenantA, lekki, 1_000, 10); fmt.Sprint(idsOf(got)) != fmt.Sprint([]string{highOld, highNew}) {
			t.Fatalf("within 1 km: %v", idsOf(got))
		}
		tenants, err := st.QueuedTenants(ctx, 10)
		must(t, err)
		slices.SortFunc(tenants, func(a, b auth.Tenant) int { return strings.Compare(a.OrgID, b.OrgID) })
		if fmt.Sprint(tenants) != fmt.Sprint([]auth.Tenant{tenantA, tenantB}) {
			t.Fatalf("queued tenants %v, want the live tenants with a queue", tenants)
		}
	})

	t.Run("QueuedNearTheAntimeridian", func(t *testing.T) {
		t.Parallel()
		st := newStores(t).IncidentStore()
		inc := newIncident(t, tenantA, base)
		inc.Status, inc.Location.Coordinates = incident.Dispatching, geo.NewPoint(-17.8, -179.99) // Fiji, west of the line
		create(t, st, inc)
		got, err := st.QueuedNear(ctx, tenantA, geo.NewPoint(-17.8, 179.99), 10_000, 10) // 2 km away, east of it
		must(t, err)
		if len(got) != 1 {
			t.Fatalf("a queued incident 2 km across the antimeridian was not found: %v", idsOf(got))
		}
	})

	t.Run("Responders", func(t *testing.T) { testResponders(t, newStores) })
	t.Run("NearestAvailable", func(t *testing.T) { testNearest(t, newStores) })
	t.Run("ClaimAndRelease", func(t *testing.T) { testClaim(t, newStores) })
	t.Run("Reassign", func(t *testing.T) { testReassign(t, newStores) })
	t.Run("CreateClaims", func(t *testing.T) { testCreateClaims(t, newStores) })
	t.Run("CountActive", func(t *testing.T) { testCountActive(t, newStores) })
	t.Run("SharedResponderClaim", shared(newStores, f, raceForResponder))
	if f.QueuedCreate {
		t.Run("QueuedCreate", func(t *testing.T) { testQueuedCreate(t, newStores) })
		t.Run("SharedQueuedCreate", shared(newStores, f, queuedSeesOtherInstances))
	}
	t.Run("Analytics", func(t *testing.T) { testAnalytics(t, newStores) })
	t.Run("ThreatReports", func(t *testing.T) { testThreatReports(t, newStores) })
}

func idsOf(items []*incident.Incident) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

// putResponder creates or replaces a responder through UpdateResponder.
func putResponder(t *testing.T, st incident.ResponderStore, tenant auth.Tenant, id string, at geo.Point, status incident.ResponderStatus, idle time.Time) *incident.Responder {
	t.Helper()
	r, err := st.UpdateResponder(context.Background(), tenant, id, func(r *incident.Responder, exists bool) error {
		r.Name, r.Location, r.Status, r.IdleSince, r.UpdatedAt = "Unit "+id[len(id)-2:], at, status, clock.At(idle), clock.At(base)
		return nil
	})
	must(t, err)
	return r
}

func rspID(n int) string { return fmt.Sprintf("rsp_%016d", n) }

func testResponders(t *testing.T, newStores NewStores) {
	t.Parallel()
	ctx := context.Background()
	st := newStores(t).ResponderStore()
	var sawNew bool
	r, err := st.UpdateResponder(ctx, tenantA, rspID(1), func(r *incident.Responder, exists bool) error {
		if exists || r.ID != rspID(1) || r.OrgID != tenantA.OrgID || r.Environment != auth.Live {
			t.Fatalf("new responder: exists=%v %+v", exists, r)
		}
		sawNew = true
		r.Name, r.Phone, r.Location, r.Status, r.UpdatedAt = "Emeka", ptr("+2348031112222"), geo.NewPoint(6.45, 3.39), incident.Available, clock.At(base)
		r.IdleSince = clock.At(base)
		return nil
	})
	must(t, err)
	if !sawNew {
		t.Fatal("change not called")
	}
	want := r.Clone()
	// The same id in another tenant is another responder.
	putResponder(t, st, tenantB, rspID(1), geo.NewPoint(0, 0), incident.Offline, time.Time{})
	boom := errors.New("boom")
	_, err = st.UpdateResponder(ctx, tenantA, rspID(1), func(r *incident.Responder, exists bool) error {
		if !exists {
			t.Fatal("existing responder reported new")
		}
		sameJSON(t, "loaded responder", r, want)
		r.Status = incident.Offline
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	for i := 2; i <= 5; i++ {
		putResponder(t, st, tenantA, rspID(i), geo.NewPoint(6.4, 3.4), []incident.ResponderStatus{incident.Available, incident.Busy}[i%2], base)
	}
	all, total, err := st.ListResponders(ctx, tenantA, incident.ResponderFilter{Limit: 2, Offset: 1})
	must(t, err)
	if total != 5 || len(all) != 2 || all[0].ID != rspID(2) || all[1].ID != rspID(3) {
		t.Fatalf("page: total %d, %v", total, all)
	}
	busy, total, err := st.ListResponders(ctx, tenantA, incident.ResponderFilter{Status: incident.Busy, Limit: 10})
	must(t, err)
	if total != 2 || busy[0].ID != rspID(3) || busy[1].ID != rspID(5) {
		t.Fatalf("busy: %d %v", total, busy)
	}
	one, _, err := st.ListResponders(ctx, tenantA, incident.ResponderFilter{ID: rspID(1), Limit: 1})
	must(t, err)
	if len(one) != 1 {
		t.Fatalf("by id: %v", one)
	}
	sameJSON(t, "stored responder (unchanged by the failed update)", one[0], want)
}

func testNearest(t *testing.T, newStores NewStores) {
	t.Parallel()
	ctx := context.Background()
	st := newStores(t).ResponderStore()
	lagos := geo.NewPoint(6.5244, 3.3792)
	// East of Lagos at growing distances: 0.5 km, 1 km (two, idle since
	// different times), 5 km, 40 km; one busy and one offline nearer still;
	// one in London.
	east := func(km float64) geo.Point { return geo.NewPoint(6.5244, 3.3792+km/110.5) }
	putResponder(t, st, tenantA, rspID(1), east(5), incident.Available, base)
	putResponder(t, st, tenantA, rspID(2), east(1), incident.Available, base.Add(time.Minute))
	putResponder(t, st, tenantA, rspID(3), east(1), incident.Available, base) // idle longer: wins the tie
	putResponder(t, st, tenantA, rspID(4), east(0.5), incident.Available, base)
	putResponder(t, st, tenantA, rspID(5), east(40), incident.Available, base)
	putResponder(t, st, tenantA, rspID(6), east(0.1), incident.Busy, base)
	putResponder(t, st, tenantA, rspID(7), east(0.2), incident.Offline, base)
	putResponder(t, st, tenantA, rspID(8), geo.NewPoint(51.5, -0.12), incident.Available, base)
	putResponder(t, st, tenantB, rspID(9), lagos, incident.Available, base)
	putResponder(t, st, tenantATest, rspID(10), lagos, incident.Available, base)

	ids := func(rs []*incident.Responder) string {
		out := ""
		for _, r := range rs {
			out += r.ID[len(r.ID)-2:] + " "
		}
		return out
	}
	got, err := st.NearestAvailable(ctx, tenantA, lagos, 3, 0)
	must(t, err)
	if ids(got) != "04 03 02 " {
		t.Fatalf("nearest 3: %s, want 04 03 02", ids(got))
	}
	got, err = st.NearestAvailable(ctx, tenantA, lagos, 10, 0)
	must(t, err)
	if ids(got) != "04 03 02 01 05 08 " {
		t.Fatalf("all available by distance: %s", ids(got))
	}
	// An update moves the responder in the index; going offline removes it.
	putResponder(t, st, tenantA, rspID(5), east(0.05), incident.Available, base)
	putResponder(t, st, tenantA, rspID(4), east(0.5), incident.Offline, base)
	got, err = st.NearestAvailable(ctx, tenantA, lagos, 2, 0)
	must(t, err)
	if ids(got) != "05 03 " {
		t.Fatalf("after updates: %s, want 05 03", ids(got))
	}
	// Far from everyone, the search still finds the nearest.
	got, err = st.NearestAvailable(ctx, tenantA, geo.NewPoint(64.1, -21.9), 1, 0)
	must(t, err)
	if ids(got) != "08 " {
		t.Fatalf("from Reykjavik: %s, want London's 08", ids(got))
	}
	// From the other side of the world every box fails and the search
	// falls back to the whole pool; the answer is still the nearest.
	sydney := geo.NewPoint(-33.87, 151.21)
	all, err := st.NearestAvailable(ctx, tenantA, lagos, 100, 0)
	must(t, err)
	best := all[0]
	for _, r := range all {
		if geo.Distance(sydney, r.Location) < geo.Distance(sydney, best.Location) {
			best = r
		}
	}
	got, err = st.NearestAvailable(ctx, tenantA, sydney, 1, 0)
	must(t, err)
	if len(got) != 1 || got[0].ID != best.ID {
		t.Fatalf("from Sydney: %s, want %s", ids(got), best.ID)
	}
	none, err := st.NearestAvailable(ctx, auth.Tenant{OrgID: tenantB.OrgID, Env: auth.Test}, lagos, 3, 0)
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("empty pool gave %v", none)
	}
	// A bounded search finds only what is within reach.
	got, err = st.NearestAvailable(ctx, tenantA, lagos, 10, 1_200)
	must(t, err)
	if ids(got) != "05 03 02 " {
		t.Fatalf("within 1.2 km: %s, want 05 03 02", ids(got))
	}
	if got, _ := st.NearestAvailable(ctx, tenantA, geo.NewPoint(64.1, -21.9), 1, 50_000); len(got) != 0 {
		t.Fatalf("from Reykjavik within 50 km: %s, want nobody", ids(got))
	}
	// Across the antimeridian, a bounded search reaches over the line.
	putResponder(t, st, tenantA, rspID(11), geo.NewPoint(-17.8, -179.99), incident.Available, base) // Fiji, west of the line
	got, err = st.NearestAvailable(ctx, tenantA, geo.NewPoint(-17.8, 179.99), 1, 10_000)
	must(t, err)
	if ids(got) != "11 " {
		t.Fatalf("2 km across the antimeridian: %s, want 11", ids(got))
	}
}

// oneResponder returns fresh stores whose pool holds one responder,
// rspID(1), available at here.
func oneResponder(t *testing.T, newStores NewStores) (stores Stores, here geo.Point) {
	t.Helper()
	stores, here = newStores(t), geo.NewPoint(6.5244, 3.3792)
	putResponder(t, stores.ResponderStore(), tenantA, rspID(1), here, incident.Available, base)
	return stores, here
}

func testClaim(t *testing.T, newStores NewStores) {
	t.Parallel()
	ctx := context.Background()
	stores, here := oneResponder(t, newStores)
	st, pool := stores.IncidentStore(), stores.ResponderStore()
	first := create(t, st, newIncident(t, tenantA, base))
	second := create(t, st, newIncident(t, tenantA, base))
	at := base.Add(time.Minute)

	claim := func(inc *incident.Incident) error {
		_, err := st.UpdateIncident(ctx, tenantA, inc.ID, func(cur *incident.Incident) (incident.Effects, error) {
			cur.Status = incident.Assigned
			cur.Sequence++
			return incident.Effects{Claim: rspID(1), At: at, Events: []outbox.Event{eventFor(t, "incident.assigned", cur)}}, nil
		})
		return err
	}
	must(t, claim(first))
	r, _, _ := pool.ListResponders(ctx, tenantA, incident.ResponderFilter{ID: rspID(1), Limit: 1})
	if r[0].Status != incident.Busy || r[0].IncidentID == nil || *r[0].IncidentID != first.ID {
		t.Fatalf("claimed responder %+v", r[0])
	}
	if near, _ := pool.NearestAvailable(ctx, tenantA, here, 1, 0); len(near) != 0 {
		t.Fatal("a busy responder is still in the index")
	}
	// A second claim fails and writes nothing.
	err := claim(second)
	if !errors.Is(err, incident.ErrResponderUnavailable) || !setyerr.Is(err, setyerr.Conflict) {
		t.Fatalf("second claim: %v", err)
	}
	if got, _ := st.GetIncident(ctx, tenantA, second.ID); got.Status != incident.Created || got.Sequence != 1 {
		t.Fatalf("failed claim changed the incident: %s seq %d", got.Status, got.Sequence)
	}
	pending(t, stores, 3) // 2 created, 1 assigned
	// Racing claims for one responder: exactly one wins.
	raceForResponder(t, []Stores{stores})

	// Release by another incident does nothing; by the owner frees it.
	release := func(inc *incident.Incident, when time.Time) {
		_, err := st.UpdateIncident(ctx, tenantA, inc.ID, func(cur *incident.Incident) (incident.Effects, error) {
			cur.Status = incident.Cancelled
			return incident.Effects{Release: rspID(1), At: when}, nil
		})
		must(t, err)
	}
	release(second, at)
	if r, _, _ := pool.ListResponders(ctx, tenantA, incident.ResponderFilter{ID: rspID(1), Limit: 1}); r[0].Status != incident.Busy {
		t.Fatal("another incident released the responder")
	}
	freed := at.Add(time.Minute)
	release(first, freed)
	r, _, _ = pool.ListResponders(ctx, tenantA, incident.ResponderFilter{ID: rspID(1), Limit: 1})
	if r[0].Status != incident.Available || r[0].IncidentID != nil || !r[0].IdleSince.Equal(freed) {
		t.Fatalf("released responder %+v", r[0])
	}
	if near, _ := pool.NearestAvailable(ctx, tenantA, here, 1, 0); len(near) != 1 {
		t.Fatal("a released responder is not back in the index")
	}
}

// raceForResponder makes a responder available, then has eight incidents
// claim it at once, through the handles in turn, and checks that exactly
// one claim won and the responder is busy with the winner's incident.
func raceForResponder(t *testing.T, handles []Stores) {
	ctx := context.Background()
	id := rspID(99)
	putResponder(t, handles[0].ResponderStore(), tenantA, id, geo.NewPoint(6.5244, 3.3792), incident.Available, base)
	var racers []*incident.Incident
	for range 8 {
		racers = append(racers, create(t, handles[0].IncidentStore(), newIncident(t, tenantA, base)))
	}
	winners := make(chan string, len(racers))
	errs := make(chan error, len(racers))
	for i, inc := range racers {
		st := handles[i%len(handles)].IncidentStore()
		go func() {
			_, err := st.UpdateIncident(ctx, tenantA, inc.ID, func(cur *incident.Incident) (incident.Effects, error) {
				cur.Status = incident.Assigned
				return incident.Effects{Claim: id, At: base.Add(time.Minute)}, nil
			})
			if err == nil {
				winners <- inc.ID
			}
			errs <- err
		}()
	}
	for range racers {
		if err := <-errs; err != nil && !errors.Is(err, incident.ErrResponderUnavailable) {
			t.Fatalf("racing claim: %v", err)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d claims of one responder succeeded, want 1", len(winners))
	}
	winner := <-winners
	for _, h := range handles {
		r, _, err := h.ResponderStore().ListResponders(ctx, tenantA, incident.ResponderFilter{ID: id, Limit: 1})
		must(t, err)
		if r[0].Status != incident.Busy || r[0].IncidentID == nil || *r[0].IncidentID != winner {
			t.Fatalf("responder after the race %+v, want busy with %s", r[0], winner)
		}
	}
}

func testAnalytics(t *testing.T, newStores NewStores) {
	t.Parallel()
	ctx := context.Background()
	st := newStores(t).IncidentStore()
	day := 24 * time.Hour
	// Five incidents over three days; assignment after 10, 20, 30, 40 s;
	// arrival after 100 and 300 s.
	specs := []struct {
		at             time.Duration
		status         incident.Status
		cat            incident.Category
		sev            incident.Severity
		drill          bool
		assign, arrive time.Duration
		sla            incident.SLAState
	}{
		{0, incident.Resolved, incident.SOS, incident.High, false, 10 * time.Second, 100 * time.Second, incident.SLAMet},
		{time.Hour, incident.Cancelled, incident.SOS, incident.Low, false, 20 * time.Second, 0, incident.SLAOnTrack},
		{day, incident.OnScene, incident.Medical, incident.Critical, true, 30 * time.Second, 300 * time.Second, incident.SLABreached},
		{day, incident.Assigned, incident.Vehicle, incident.High, false, 40 * time.Second, 0, incident.SLAAtRisk},
		{2 * day, incident.Dispatching, incident.SOS, incident.Medium, false, 0, 0, incident.SLABreached},
	}
	for _, s := range specs {
		inc := newIncident(t, tenantA, base.Add(s.at))
		inc.Status, inc.Category, inc.Severity, inc.IsDrill = s.status, s.cat, s.sev, s.drill
		inc.SLA = &incident.SLA{State: s.sla}
		if s.assign > 0 {
			inc.Responder = &incident.ResponderAssignment{ResponderID: rspID(1), AssignedAt: clock.At(inc.CreatedAt.Add(s.assign))}
			if s.arrive > 0 {
				inc.Responder.ArrivedAt = clock.At(inc.CreatedAt.Add(s.arrive))
			}
		}
		create(t, st, inc)
	}
	create(t, st, newIncident(t, tenantB, base))                   // another tenant
	create(t, st, newIncident(t, tenantA, base.Add(-time.Second))) // before the window

	a, err := st.IncidentAnalytics(ctx, tenantA, base, base.Add(2*day))
	must(t, err)
	check := func(what string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	f := func(v *float64) string {
		if v == nil {
			return "null"
		}
		return fmt.Sprint(*v)
	}
	check("total", a.Total, 5)
	check("drills", a.Drills, 1)
	check("cancelled", a.Cancelled, 1)
	check("sla met/breached", []int{a.SLAMet, a.SLABreached}, []int{1, 2})
	check("by status", a.ByStatus, map[string]int{"resolved": 1, "cancelled": 1, "on_scene": 1, "assigned": 1, "dispatching": 1})
	check("by category", a.ByCategory, map[string]int{"sos": 3, "medical": 1, "vehicle": 1})
	check("by severity", a.BySeverity, map[string]int{"high": 2, "low": 1, "critical": 1, "medium": 1})
	check("assign p50/p90/avg", []string{f(a.TimeToAssignSeconds.P50), f(a.TimeToAssignSeconds.P90), f(a.TimeToAssignSeconds.Avg)}, []string{"20", "40", "25"})
	check("arrive p50/p90/avg", []string{f(a.TimeToArriveSeconds.P50), f(a.TimeToArriveSeconds.P90), f(a.TimeToArriveSeconds.Avg)}, []string{"100", "300", "200"})
	check("by day", a.ByDay, []incident.DayCount{{Date: "2026-03-10", Count: 2}, {Date: "2026-03-11", Count: 2}, {Date: "2026-03-12", Count: 1}})

	empty, err := st.IncidentAnalytics(ctx, tenantATest, base, base.Add(day))
	must(t, err)
	if empty.Total != 0 || empty.TimeToAssignSeconds.P50 != nil || len(empty.ByDay) != 0 || empty.ByStatus == nil {
		t.Fatalf("empty analytics %+v", empty)
	}
}

func testThreatReports(t *testing.T, newStores NewStores) {
	t.Parallel()
	ctx := context.Background()
	stores := newStores(t)
	st := stores.IncidentStore()
	counted := newIncident(t, tenantA, base)
	create(t, st, counted)
	drill := newIncident(t, tenantA, base)
	drill.IsDrill = true
	create(t, st, drill)
	create(t, st, newIncident(t, tenantATest, base))
	create(t, st, newIncident(t, tenantA, base.Add(-400*24*time.Hour))) // too old
	falseAlarm := newIncident(t, tenantA, base)
	outcome := incident.FalseAlarm
	falseAlarm.Status, falseAlarm.ResolutionOutcome = incident.Resolved, &outcome
	create(t, st, falseAlarm)
	duplicate := newIncident(t, tenantA, base)
	code := incident.CancelDuplicate
	duplicate.Status, duplicate.CancelReasonCode = incident.Cancelled, &code
	create(t, st, duplicate)
	var got []threat.Report
	checkpoint, err := stores.ThreatSource().ThreatReports(ctx, base.Add(-365*24*time.Hour), func(r threat.Report) error {
		got = append(got, r)
		return nil
	})
	must(t, err)
	// The checkpoint is the outbox position the reports are as of: every
	// event so far is at or before it (none was committed meanwhile, so
	// none is ahead of it).
	if head, err := stores.EventLog().Head(ctx); err != nil || checkpoint.Position != head || head == 0 || len(checkpoint.Ahead) != 0 {
		t.Fatalf("checkpoint %+v, head %d (%v): want the head of the outbox", checkpoint, head, err)
	}
	if len(got) != 1 || !got[0].At.Equal(base) || got[0].Location != counted.Location.Coordinates || string(got[0].Category) != string(counted.Category) || string(got[0].Severity) != string(counted.Severity) {
		t.Fatalf("threat reports %+v, want only the live, non-drill, recent, real incident", got)
	}
	// A false alarm found out later leaves the source too.
	_, err = st.UpdateIncident(ctx, tenantA, counted.ID, func(cur *incident.Incident) (incident.Effects, error) {
		cur.Status, cur.ResolutionOutcome = incident.Resolved, &outcome
		return incident.Effects{}, nil
	})
	must(t, err)
	got = nil
	_, err = stores.ThreatSource().ThreatReports(ctx, base.Add(-365*24*time.Hour), func(r threat.Report) error {
		got = append(got, r)
		return nil
	})
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("%d reports after the false alarm", len(got))
	}
}

// A create can claim a responder in its own transaction (a new incident
// assigned at once); a claim that cannot be had fails the whole create.
func testCreateClaims(t *testing.T, newStores NewStores) {
	t.Parallel()
	ctx := context.Background()
	stores, _ := oneResponder(t, newStores)
	st, pool := stores.IncidentStore(), stores.ResponderStore()
	at := base.Add(time.Second)
	assigned := func() *incident.Incident {
		inc := newIncident(t, tenantA, base)
		inc.Status, inc.Sequence = incident.Assigned, 3
		return inc
	}
	effects := func(inc *incident.Incident) incident.Effects {
		return incident.Effects{Claim: rspID(1), At: at, Events: []outbox.Event{
			eventForSeq(t, incident.TypeCreated, inc, 1), eventForSeq(t, "incident.dispatching", inc, 2), eventForSeq(t, "incident.assigned", inc, 3)}}
	}
	first := assigned()
	got, created, err := st.CreateIncident(ctx, first, effects(first))
	must(t, err)
	if !created || got.Status != incident.Assigned {
		t.Fatalf("create with a claim: created %v, %+v", created, got)
	}
	r, _, _ := pool.ListResponders(ctx, tenantA, incident.ResponderFilter{ID: rspID(1), Limit: 1})
	if r[0].Status != incident.Busy || r[0].IncidentID == nil || *r[0].IncidentID != first.ID {
		t.Fatalf("claimed responder %+v", r[0])
	}
	second := assigned()
	_, _, err = st.CreateIncident(ctx, second, effects(second))
	if !errors.Is(err, incident.ErrResponderUnavailable) {
		t.Fatalf("create claiming a busy responder: %v", err)
	}
	if _, err := st.GetIncident(ctx, tenantA, second.ID); !setyerr.Is(err, setyerr.NotFound) {
		t.Fatalf("a failed create was stored: %v", err)
	}
	pending(t, stores, 3) // the first create's three events only
}

// eventForSeq is eventFor with the given sequence, for a change that
// writes several events of one incident.
func eventForSeq(t testing.TB, typ string, inc *incident.Incident, seq int64) outbox.Event {
	ev := eventFor(t, typ, inc)
	ev.Sequence = seq
	return ev
}

// CountActive counts every tenant's active incidents by environment and
// status, and the live queue; ended incidents and drills waiting in
// dispatching are not queued.
func testCountActive(t *testing.T, newStores NewStores) {
	t.Parallel()
	st := newStores(t).IncidentStore()
	for _, c := range []struct {
		tenant auth.Tenant
		status incident.Status
		drill  bool
	}{
		{tenantA, incident.Dispatching, false}, {tenantB, incident.Dispatching, false}, {tenantA, incident.Dispatching, true},
		{tenantATest, incident.Dispatching, false}, {tenantA, incident.Assigned, false}, {tenantA, incident.Resolved, false},
		{tenantB, incident.Cancelled, false}, {tenantA, incident.Created, true},
	} {
		inc := newIncident(t, c.tenant, base)
		inc.Status, inc.IsDrill = c.status, c.drill
		create(t, st, inc)
	}
	got, err := st.CountActive(context.Background())
	must(t, err)
	want := map[auth.Environment]map[incident.Status]int{
		auth.Live: {incident.Dispatching: 3, incident.Assigned: 1, incident.Created: 1},
		auth.Test: {incident.Dispatching: 1},
	}
	if !reflect.DeepEqual(got.Active, want) || got.Queued != 2 {
		t.Fatalf("active %v queued %d, want %v and 2 (live, not drills)", got.Active, got.Queued, want)
	}
}

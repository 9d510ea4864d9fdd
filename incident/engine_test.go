package incident_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/mock/gomock"

	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/adapters/mock"
	"github.com/sety-io/sety/adapters/sqlite"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/ids"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
)

// stores is what the engine tests need of an adapter.
type stores interface {
	IncidentStore() incident.Store
	ResponderStore() incident.ResponderStore
	AuthStore() auth.Store
	OutboxReader() outbox.Reader
}

// world is a service over a store with an organization, a fake clock and
// helpers to run the engine.
type world struct {
	t     *testing.T
	ctx   context.Context
	clk   *clock.Fake
	st    stores
	svc   *incident.Service
	ids   ids.Generator
	speed float64
}

var here = geo.NewPoint(6.5244, 3.3792) // Lagos

func newWorld(t *testing.T) *world {
	st := memory.New()
	w := &world{t: t, ctx: context.Background(), clk: clock.NewFake(start), st: st, ids: ids.Sequential()}
	org := &auth.Organization{ID: live.OrgID, Name: "Acme", Plan: auth.Growth, Status: auth.Active, CreatedAt: clock.At(start)}
	if err := st.AuthStore().CreateOrganization(w.ctx, org); err != nil {
		t.Fatal(err)
	}
	w.svc = w.service()
	return w
}

// service builds a service over the world's store, as a (re)started process would.
func (w *world) service() *incident.Service {
	return incident.NewService(w.st.IncidentStore(), incident.Config{
		Now: w.clk.Now, NewID: w.ids, Responders: w.st.ResponderStore(), Simulation: incident.Simulation{Speed: w.speed},
	})
}

// tick moves the clock by d and lets the engine do what is due.
func (w *world) tick(d time.Duration) {
	w.t.Helper()
	w.clk.Advance(d)
	if _, err := w.svc.Tick(w.ctx); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) create(tenant auth.Tenant, sev incident.Severity, at geo.Point) *incident.Incident {
	w.t.Helper()
	inc, _, err := w.svc.Create(w.ctx, tenant, incident.CreateIncidentRequest{Category: incident.SOS, Severity: sev, Location: incident.Location{Coordinates: at}})
	if err != nil {
		w.t.Fatal(err)
	}
	return inc
}

func (w *world) get(tenant auth.Tenant, id string) *incident.Incident {
	w.t.Helper()
	inc, err := w.svc.Get(w.ctx, tenant, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return inc
}

// responder puts an available responder km kilometres east of here.
func (w *world) responder(n int, km float64) string {
	w.t.Helper()
	id := fmt.Sprintf("rsp_%016d", n)
	if _, err := w.svc.UpsertResponder(w.ctx, live, id, incident.ResponderInput{
		Name: fmt.Sprintf("Unit %d", n), Location: geo.NewPoint(here.Lat(), here.Lng()+km/110.5),
	}); err != nil {
		w.t.Fatal(err)
	}
	return id
}

func (w *world) responderState(id string) *incident.Responder {
	w.t.Helper()
	rs, _, err := w.svc.ListResponders(w.ctx, live, incident.ResponderFilter{ID: id, Limit: 1})
	if err != nil || len(rs) != 1 {
		w.t.Fatalf("responder %s: %v %v", id, rs, err)
	}
	return rs[0]
}

// events lists the outbox event types of one incident, in order.
func (w *world) events(id string) []string {
	w.t.Helper()
	all, err := w.st.OutboxReader().PendingEvents(w.ctx, 1000)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for i, ev := range all {
		if ev.SubjectID != id {
			continue
		}
		out = append(out, strings.TrimPrefix(ev.Type, "incident."))
		_ = i
	}
	return out
}

func timelineOf(inc *incident.Incident) []string {
	var out []string
	for _, e := range inc.Timeline {
		out = append(out, string(e.Event))
	}
	return out
}

func wantList(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func TestLiveIncidentWalksEveryTransition(t *testing.T) {
	w := newWorld(t)
	far := w.responder(1, 5)
	near := w.responder(2, 1)
	inc := w.create(live, incident.Critical, here) // dispatched in the create
	if inc.SLA == nil || inc.SLA.State != incident.SLAOnTrack || inc.SLA.AssignTargetSeconds != 60 {
		t.Fatalf("new incident: %s %+v", inc.Status, inc.SLA)
	}
	if inc.Status != incident.Assigned || inc.Responder == nil || inc.Responder.ResponderID != near {
		t.Fatalf("after dispatch: %s, responder %+v; want %s assigned", inc.Status, inc.Responder, near)
	}
	if d := inc.Responder.DistanceMeters; d < 990 || d > 1010 {
		t.Fatalf("distance %v m, want about 1000", d)
	}
	if eta := inc.Responder.ETASeconds; eta != 120 { // 1 km at 30 km/h
		t.Fatalf("eta %v s, want 120", eta)
	}
	if *inc.SLA.TimeToAssignSeconds != 0 || w.responderState(near).Status != incident.Busy || w.responderState(far).Status != incident.Available {
		t.Fatalf("sla %+v, near %s, far %s", inc.SLA, w.responderState(near).Status, w.responderState(far).Status)
	}

	w.clk.Advance(2 * time.Minute)
	if _, err := w.svc.SetStatus(w.ctx, live, inc.ID, incident.UpdateStatusRequest{Status: incident.Responding}); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(3 * time.Minute)
	inc, err := w.svc.SetStatus(w.ctx, live, inc.ID, incident.UpdateStatusRequest{Status: incident.OnScene, Message: "Unit 2 at the gate"})
	if err != nil {
		t.Fatal(err)
	}
	if inc.Responder.ArrivedAt.IsZero() || *inc.SLA.TimeToArriveSeconds != 300 || inc.SLA.State != incident.SLAMet {
		t.Fatalf("on scene: responder %+v sla %+v", inc.Responder, inc.SLA)
	}
	if _, err := w.svc.SetStatus(w.ctx, live, inc.ID, incident.UpdateStatusRequest{Status: incident.Responding}); !setyerr.Is(err, setyerr.Conflict) {
		t.Fatalf("moving back: %v, want Conflict", err)
	}
	w.clk.Advance(10 * time.Minute)
	inc, err = w.svc.SetStatus(w.ctx, live, inc.ID, incident.UpdateStatusRequest{Status: incident.Resolved, Outcome: incident.FalseAlarm, Notes: "Neighbours' argument"})
	if err != nil {
		t.Fatal(err)
	}
	if inc.Status != incident.Resolved || *inc.ResolutionOutcome != incident.FalseAlarm || *inc.ResolutionNotes != "Neighbours' argument" ||
		!inc.ResolvedAt.Equal(w.clk.Now().Truncate(time.Millisecond)) || inc.SLA.State != incident.SLAMet {
		t.Fatalf("resolved: %+v", inc)
	}
	if r := w.responderState(near); r.Status != incident.Available || r.IncidentID != nil || !r.IdleSince.Equal(inc.ResolvedAt.Time) {
		t.Fatalf("responder after resolve: %+v", r)
	}
	wantList(t, "timeline", timelineOf(inc), "created", "dispatching", "assigned", "responding", "on_scene", "resolved")
	wantList(t, "events", w.events(inc.ID), "created", "dispatching", "assigned", "responding", "on_scene", "resolved")
	if inc.Timeline[4].Message != "Unit 2 at the gate" {
		t.Fatalf("on_scene message %q", inc.Timeline[4].Message)
	}
	if _, err := w.svc.SetStatus(w.ctx, live, inc.ID, incident.UpdateStatusRequest{Status: incident.Resolved}); !setyerr.Is(err, setyerr.Conflict) {
		t.Fatalf("resolving twice: %v, want Conflict", err)
	}
	if _, err := w.svc.Cancel(w.ctx, live, inc.ID, incident.CancelIncidentRequest{}); !setyerr.Is(err, setyerr.Conflict) {
		t.Fatalf("cancelling a resolved incident: %v, want Conflict", err)
	}
}

func TestStatusReportsNeedAResponder(t *testing.T) {
	w := newWorld(t)
	inc := w.create(live, incident.High, here)
	w.tick(0) // no pool: queued in dispatching
	for _, to := range []incident.Status{incident.Responding, incident.OnScene} {
		if _, err := w.svc.SetStatus(w.ctx, live, inc.ID, incident.UpdateStatusRequest{Status: to}); !setyerr.Is(err, setyerr.Conflict) {
			t.Fatalf("%s without a responder: %v, want Conflict", to, err)
		}
	}
	for _, bad := range []incident.UpdateStatusRequest{{Status: incident.Assigned}, {Status: "flying"}, {Status: incident.OnScene, Outcome: incident.Handled}, {Status: incident.Resolved, Outcome: "won"}} {
		if _, err := w.svc.SetStatus(w.ctx, live, inc.ID, bad); !setyerr.Is(err, setyerr.Invalid) {
			t.Fatalf("%+v: %v, want Invalid", bad, err)
		}
	}
	// Resolving straight from dispatching is allowed (skipping ahead).
	got, err := w.svc.SetStatus(w.ctx, live, inc.ID, incident.UpdateStatusRequest{Status: incident.Resolved, Outcome: incident.Referred})
	if err != nil || got.Status != incident.Resolved {
		t.Fatalf("resolve from dispatching: %v", err)
	}
}

func TestSLAStates(t *testing.T) {
	w := newWorld(t)
	inc := w.create(live, incident.High, here) // targets: assign 90 s, arrive 600 s
	w.tick(0)
	state := func() incident.SLAState { return w.get(live, inc.ID).SLA.State }
	if s := state(); s != incident.SLAOnTrack {
		t.Fatalf("at 0 s: %s", s)
	}
	// Nobody is in range (the pool is empty): at risk from half the
	// assignment target on, not only from 80 %.
	w.tick(44 * time.Second)
	if s := state(); s != incident.SLAOnTrack {
		t.Fatalf("at 44 s: %s, want on_track", s)
	}
	w.tick(1 * time.Second) // 45 s: half of 90 s
	if s := state(); s != incident.SLAAtRisk {
		t.Fatalf("at 45 s: %s, want at_risk", s)
	}
	wantList(t, "events at risk", w.events(inc.ID), "created", "dispatching", "sla_at_risk")
	w.tick(27 * time.Second) // 72 s: 80 % of 90 s, already at risk
	w.tick(19 * time.Second) // 91 s: assignment target missed
	got := w.get(live, inc.ID)
	if got.SLA.State != incident.SLABreached || timelineOf(got)[len(got.Timeline)-1] != "sla_breached" {
		t.Fatalf("at 91 s: %s, timeline %v", got.SLA.State, timelineOf(got))
	}
	w.tick(time.Minute)
	w.tick(time.Minute)
	wantList(t, "events after more ticks", w.events(inc.ID), "created", "dispatching", "sla_at_risk", "sla_breached")

	// A responder appears late: assigned, the breach stays; arrival misses too.
	w.responder(1, 1)
	got = w.get(live, inc.ID)
	if got.Status != incident.Assigned || got.SLA.State != incident.SLABreached {
		t.Fatalf("late assignment: %s %s", got.Status, got.SLA.State)
	}
	w.tick(10 * time.Minute)
	got = w.get(live, inc.ID)
	wantList(t, "events", w.events(inc.ID), "created", "dispatching", "sla_at_risk", "sla_breached", "assigned", "sla_breached")
	if got.Timeline[len(got.Timeline)-1].Message != "Arrival target of 600 s missed" {
		t.Fatalf("last timeline entry %+v", got.Timeline[len(got.Timeline)-1])
	}

	// On time everywhere: met.
	w2 := newWorld(t)
	w2.responder(1, 2)
	inc2 := w2.create(live, incident.Low, here)
	w2.tick(0)
	w2.clk.Advance(4 * time.Minute)
	done, err := w2.svc.SetStatus(w2.ctx, live, inc2.ID, incident.UpdateStatusRequest{Status: incident.OnScene})
	if err != nil || done.SLA.State != incident.SLAMet {
		t.Fatalf("on time: %v %+v", err, done.SLA)
	}
	w2.tick(time.Hour)
	wantList(t, "events on time", w2.events(inc2.ID), "created", "dispatching", "assigned", "on_scene")
}

func TestBreachRecordedOnceAcrossRestarts(t *testing.T) {
	w := newWorld(t)
	inc := w.create(live, incident.Critical, here)
	w.tick(0)
	w.tick(61 * time.Second)
	w.svc = w.service() // a restart: a new service over the same store
	w.tick(time.Second)
	other := w.service() // and a second process ticking the same store
	if _, err := other.Tick(w.ctx); err != nil {
		t.Fatal(err)
	}
	wantList(t, "events", w.events(inc.ID), "created", "dispatching", "sla_breached")
}

func TestQueueingPriorityAndCancelFreesResponder(t *testing.T) {
	w := newWorld(t)
	low := w.create(live, incident.Low, here)
	w.clk.Advance(time.Second)
	critical := w.create(live, incident.Critical, here)
	w.clk.Advance(time.Second)
	high := w.create(live, incident.High, here)
	w.tick(0)
	for _, inc := range []*incident.Incident{low, critical, high} {
		if s := w.get(live, inc.ID).Status; s != incident.Dispatching {
			t.Fatalf("with no responder: %s", s)
		}
	}
	r1 := w.responder(1, 1) // goes to the most severe
	if got := w.get(live, critical.ID); got.Status != incident.Assigned || got.Responder.ResponderID != r1 {
		t.Fatalf("critical: %s %+v", got.Status, got.Responder)
	}
	r2 := w.responder(2, 3)
	if got := w.get(live, high.ID); got.Status != incident.Assigned || got.Responder.ResponderID != r2 {
		t.Fatalf("high: %s %+v", got.Status, got.Responder)
	}
	if w.get(live, low.ID).Status != incident.Dispatching {
		t.Fatal("low assigned without a free responder")
	}
	// Cancelling the critical incident stands r1 down; the queue takes it.
	w.clk.Advance(time.Minute)
	cancelled, err := w.svc.Cancel(w.ctx, live, critical.ID, incident.CancelIncidentRequest{Reason: "false alarm"})
	if err != nil {
		t.Fatal(err)
	}
	if cancelled.Responder == nil || cancelled.Status != incident.Cancelled {
		t.Fatalf("cancelled incident %+v", cancelled)
	}
	if got := w.get(live, low.ID); got.Status != incident.Assigned || got.Responder.ResponderID != r1 {
		t.Fatalf("low after the cancel: %s %+v", got.Status, got.Responder)
	}
	if r := w.responderState(r1); *r.IncidentID != low.ID {
		t.Fatalf("r1 now on %v", r.IncidentID)
	}
}

// A queued incident is not polled: only a responder becoming available, or
// the safety-net sweep, assigns it.
func TestQueueIsSweptNotPolled(t *testing.T) {
	w := newWorld(t)
	queued := w.create(live, incident.Medium, here)
	w.st.ResponderStore().UpdateResponder(w.ctx, live, "rsp_0000000000000009", func(r *incident.Responder, _ bool) error {
		r.Name, r.Location, r.Status, r.UpdatedAt = "Side door", here, incident.Available, clock.At(w.clk.Now())
		return nil
	}) // added behind the service's back, as a crashed process might leave it
	w.tick(30 * time.Second)
	if w.get(live, queued.ID).Status != incident.Dispatching {
		t.Fatal("the engine polled the queue")
	}
	if err := w.svc.Sweep(w.ctx); err != nil {
		t.Fatal(err)
	}
	if got := w.get(live, queued.ID); got.Status != incident.Assigned || got.Responder.ResponderID != "rsp_0000000000000009" {
		t.Fatalf("after the sweep: %s %+v", got.Status, got.Responder)
	}
}

func TestResponderOnAnIncidentStaysBusy(t *testing.T) {
	w := newWorld(t)
	r := w.responder(1, 1)
	w.create(live, incident.High, here)
	w.tick(0)
	_, err := w.svc.UpsertResponder(w.ctx, live, r, incident.ResponderInput{Name: "Unit 1", Location: here, Status: incident.Offline})
	if !setyerr.Is(err, setyerr.Conflict) {
		t.Fatalf("going offline mid-incident: %v, want Conflict", err)
	}
	moved, err := w.svc.UpsertResponder(w.ctx, live, r, incident.ResponderInput{Name: "Unit 1", Location: here, Status: incident.Busy})
	if err != nil || moved.Location != here || moved.IncidentID == nil {
		t.Fatalf("position update while busy: %v %+v", err, moved)
	}
	for _, bad := range []struct {
		id string
		in incident.ResponderInput
	}{
		{"unit/1", incident.ResponderInput{Name: "x", Location: here}},
		{r, incident.ResponderInput{Name: " ", Location: here}},
		{r, incident.ResponderInput{Name: "x", Location: geo.Point{200, 0}}},
		{r, incident.ResponderInput{Name: "x", Location: here, Phone: "0803"}},
		{r, incident.ResponderInput{Name: "x", Location: here, Status: "asleep"}},
	} {
		if _, err := w.svc.UpsertResponder(w.ctx, live, bad.id, bad.in); !setyerr.Is(err, setyerr.Invalid) {
			t.Fatalf("%+v: %v, want Invalid", bad, err)
		}
	}
}

func TestDrillWalksTheSimulatorNeverThePool(t *testing.T) {
	w := newWorld(t)
	pool := w.responder(1, 0.1)
	inc := w.create(test, incident.High, here)
	if !inc.IsDrill {
		t.Fatal("test-key incident is not a drill")
	}
	steps := []struct {
		after time.Duration
		want  incident.Status
	}{{1 * time.Second, incident.Created}, {1 * time.Second, incident.Dispatching}, {3 * time.Second, incident.Assigned},
		{5 * time.Second, incident.Responding}, {20 * time.Second, incident.OnScene}, {29 * time.Second, incident.OnScene}, {1 * time.Second, incident.Resolved}}
	for _, st := range steps {
		w.tick(st.after)
		if got := w.get(test, inc.ID).Status; got != st.want {
			t.Fatalf("at %v: %s, want %s", w.clk.Now().Sub(start), got, st.want)
		}
	}
	got := w.get(test, inc.ID)
	if got.Responder == nil || got.Responder.Name != "Sandbox Responder" || got.Responder.ResponderID == pool ||
		*got.ResolutionOutcome != incident.Handled || got.SLA.State != incident.SLAMet {
		t.Fatalf("drill at the end: %+v %+v", got.Responder, got.SLA)
	}
	wantList(t, "events", w.events(inc.ID), "created", "dispatching", "assigned", "responding", "on_scene", "resolved")
	if r := w.responderState(pool); r.Status != incident.Available {
		t.Fatalf("a drill took the pool's responder: %+v", r)
	}
	// A live incident never goes to the simulator: with no pool it waits.
	w2 := newWorld(t)
	liveInc := w2.create(live, incident.High, here)
	w2.tick(2 * time.Minute)
	if got := w2.get(live, liveInc.ID); got.Status != incident.Dispatching || got.Responder != nil {
		t.Fatalf("live incident without a pool: %s %+v", got.Status, got.Responder)
	}
	// A drill asked for by a live key is simulated too.
	drill, _, _ := w.svc.Create(w.ctx, live, incident.CreateIncidentRequest{Category: incident.Medical, IsDrill: true, Location: incident.Location{Coordinates: here}})
	w.tick(61 * time.Second)
	if got := w.get(live, drill.ID); got.Status != incident.Resolved || got.Responder.ResponderID == pool {
		t.Fatalf("live-key drill: %s %+v", got.Status, got.Responder)
	}
}

func TestSimulationSpeed(t *testing.T) {
	w := newWorld(t)
	w.speed = 100
	w.svc = w.service()
	inc := w.create(test, incident.Critical, here)
	w.tick(599 * time.Millisecond)
	if got := w.get(test, inc.ID).Status; got != incident.OnScene {
		t.Fatalf("at 0.599 s at 100x: %s, want on_scene", got)
	}
	w.tick(time.Millisecond)
	if got := w.get(test, inc.ID).Status; got != incident.Resolved {
		t.Fatalf("at 0.6 s at 100x: %s, want resolved", got)
	}
}

func TestCancelledDrillStops(t *testing.T) {
	w := newWorld(t)
	inc := w.create(test, incident.High, here)
	w.tick(6 * time.Second)
	if _, err := w.svc.Cancel(w.ctx, test, inc.ID, incident.CancelIncidentRequest{Reason: "done testing"}); err != nil {
		t.Fatal(err)
	}
	w.tick(time.Hour)
	wantList(t, "events", w.events(inc.ID), "created", "dispatching", "assigned", "cancelled")
}

// A drill interrupted by a restart continues where it stopped: each missed
// step is applied once, in order, from the state in the database.
func TestDrillContinuesAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sety.db")
	open := func() *sqlite.DB {
		db, err := sqlite.Open(context.Background(), path, &sqlite.Options{Synchronous: "NORMAL"})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open()
	w := &world{t: t, ctx: context.Background(), clk: clock.NewFake(start), st: db, ids: ids.Sequential()}
	org := &auth.Organization{ID: live.OrgID, Name: "Acme", Plan: auth.Growth, Status: auth.Active, CreatedAt: clock.At(start)}
	if err := db.AuthStore().CreateOrganization(w.ctx, org); err != nil {
		t.Fatal(err)
	}
	w.svc = w.service()
	inc := w.create(test, incident.High, here)
	w.tick(12 * time.Second) // dispatching, assigned, responding
	if got := w.get(test, inc.ID).Status; got != incident.Responding {
		t.Fatalf("before the restart: %s", got)
	}
	db.Close()

	w.clk.Advance(5 * time.Minute) // the process is down through on_scene and resolved
	db = open()
	defer db.Close()
	w.st = db
	w.svc = w.service()
	w.tick(0)
	got := w.get(test, inc.ID)
	if got.Status != incident.Resolved {
		t.Fatalf("after the restart: %s", got.Status)
	}
	wantList(t, "timeline", timelineOf(got), "created", "dispatching", "assigned", "responding", "on_scene", "resolved")
	wantList(t, "events", w.events(inc.ID), "created", "dispatching", "assigned", "responding", "on_scene", "resolved")
	w.tick(time.Hour)
	wantList(t, "events after more ticks", w.events(inc.ID), "created", "dispatching", "assigned", "responding", "on_scene", "resolved")
}

// Two engines on one store never apply a step twice.
func TestConcurrentEnginesApplyEachStepOnce(t *testing.T) {
	w := newWorld(t)
	var incs []*incident.Incident
	for range 10 {
		incs = append(incs, w.create(test, incident.High, here))
	}
	engines := []*incident.Service{w.svc, w.service(), w.service()}
	for range 8 {
		w.clk.Advance(8 * time.Second)
		var wg sync.WaitGroup
		for _, e := range engines {
			wg.Go(func() {
				if _, err := e.Tick(w.ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	for _, inc := range incs {
		wantList(t, "events", w.events(inc.ID), "created", "dispatching", "assigned", "responding", "on_scene", "resolved")
	}
}

func TestAnalytics(t *testing.T) {
	w := newWorld(t)
	w.responder(1, 1)
	a := w.create(live, incident.Critical, here)
	w.tick(0)
	w.clk.Advance(100 * time.Second)
	if _, err := w.svc.SetStatus(w.ctx, live, a.ID, incident.UpdateStatusRequest{Status: incident.OnScene}); err != nil {
		t.Fatal(err)
	}
	b := w.create(live, incident.High, here)
	w.tick(0) // queued: the only responder is busy
	if _, err := w.svc.Cancel(w.ctx, live, b.ID, incident.CancelIncidentRequest{}); err != nil {
		t.Fatal(err)
	}
	w.create(test, incident.Low, here)

	got, err := w.svc.Analytics(w.ctx, live, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Total != 2 || got.CancelledRate != 0.5 || got.SLAMetRate == nil || *got.SLAMetRate != 1 ||
		*got.TimeToArriveSeconds.P50 != 100 || got.ByStatus["on_scene"] != 1 || got.ByStatus["created"] != 0 ||
		len(got.ByDay) != 31 || got.ByDay[30].Count != 2 || !got.To.Equal(w.clk.Now().Truncate(time.Millisecond)) {
		t.Fatalf("analytics %+v", got)
	}
	if _, err := w.svc.Analytics(w.ctx, live, start.Add(-400*24*time.Hour), start); !setyerr.Is(err, setyerr.Invalid) {
		t.Fatalf("a 400-day window: %v, want Invalid", err)
	}
}

// A Dispatcher of one's own decides who goes; the engine still claims the
// responder in the incident's transaction.
func TestCustomDispatcherDecides(t *testing.T) {
	w := newWorld(t)
	near := w.responder(1, 0.5)
	far := w.responder(2, 9)
	ctrl := gomock.NewController(t)
	d := mock.NewDispatcher(ctrl)
	d.EXPECT().Rank(gomock.Any(), gomock.Any()).Return([]incident.ResponderAssignment{
		{ResponderID: far, Name: "Unit 2", DistanceMeters: 9000, ETASeconds: 1080},
		{ResponderID: near, Name: "Unit 1", DistanceMeters: 500, ETASeconds: 60},
	}, nil)
	w.svc = incident.NewService(w.st.IncidentStore(), incident.Config{Now: w.clk.Now, NewID: w.ids, Responders: w.st.ResponderStore(), Dispatcher: d})
	inc := w.create(live, incident.High, here)
	w.tick(0)
	if got := w.get(live, inc.ID); got.Status != incident.Assigned || got.Responder.ResponderID != far {
		t.Fatalf("assigned %+v, want the dispatcher's first choice %s", got.Responder, far)
	}
	if w.responderState(far).Status != incident.Busy || w.responderState(near).Status != incident.Available {
		t.Fatal("the claim did not follow the dispatcher's choice")
	}
}

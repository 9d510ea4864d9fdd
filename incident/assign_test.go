package incident_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/setyerr"
)

func TestDispatcherAssignsBeyondTheRange(t *testing.T) {
	w := newWorld(t)
	far := w.responder(1, 80) // beyond the 50 km range: never sent automatically
	inc := w.create(live, incident.Critical, here)
	if inc.Status != incident.Dispatching {
		t.Fatalf("status %s, want dispatching", inc.Status)
	}
	cands, within, err := w.svc.Candidates(w.ctx, live, inc.ID, 0)
	if err != nil || len(cands) != 1 || within != incident.DefaultDispatchRange {
		t.Fatalf("candidates %+v %v %v", cands, within, err)
	}
	if c := cands[0]; c.ResponderID != far || c.WithinRange || c.DistanceMeters < 79_000 || c.ETASeconds != float64(int(c.DistanceMeters/(30/3.6)+0.5)) {
		t.Fatalf("candidate %+v", c)
	}
	w.clk.Advance(20 * time.Second)
	got, err := w.svc.Assign(w.ctx, live, inc.ID, incident.AssignRequest{ResponderID: far, Message: "only unit free"})
	if err != nil {
		t.Fatal(err)
	}
	last := got.Timeline[len(got.Timeline)-1]
	if got.Status != incident.Assigned || got.Responder.ResponderID != far || last.Event != incident.EventAssigned ||
		!strings.Contains(last.Message, "assigned by the dispatcher") || !strings.HasSuffix(last.Message, ": only unit free") {
		t.Fatalf("assigned: %s %+v %+v", got.Status, got.Responder, last)
	}
	if *got.SLA.TimeToAssignSeconds != 20 {
		t.Fatalf("time to assign %v", *got.SLA.TimeToAssignSeconds)
	}
	if r := w.responderState(far); r.Status != incident.Busy || *r.IncidentID != inc.ID {
		t.Fatalf("responder %+v", r)
	}
	// ETA 9,600 s is far past arrive_by: at risk, said once.
	wantList(t, "events", w.events(inc.ID), "created", "dispatching", "assigned", "sla_at_risk")
	if cands, _, _ := w.svc.Candidates(w.ctx, live, inc.ID, 5); len(cands) != 0 {
		t.Fatalf("a busy responder is still a candidate: %+v", cands)
	}
}

func TestReassignStandsDownAndKeepsTheClocks(t *testing.T) {
	w := newWorld(t)
	first := w.responder(1, 1)
	inc := w.create(live, incident.High, here)
	queued := w.create(live, incident.Low, here) // waits for the next free responder
	w.clk.Advance(30 * time.Second)
	if _, err := w.svc.SetStatus(w.ctx, live, inc.ID, incident.UpdateStatusRequest{Status: incident.OnScene}); err != nil {
		t.Fatal(err)
	}
	second := w.responder(2, 2) // becomes available: the queued incident takes it
	if q := w.get(live, queued.ID); q.Responder == nil || q.Responder.ResponderID != second {
		t.Fatalf("queued incident: %+v", q.Responder)
	}
	third := w.responder(3, 3)
	w.clk.Advance(time.Minute)
	got, err := w.svc.Assign(w.ctx, live, inc.ID, incident.AssignRequest{ResponderID: third})
	if err != nil {
		t.Fatal(err)
	}
	last := got.Timeline[len(got.Timeline)-1]
	if got.Status != incident.OnScene || got.Responder.ResponderID != third || last.Status != incident.OnScene ||
		!strings.Contains(last.Message, "in place of Unit 1") {
		t.Fatalf("reassigned: %s %+v %+v", got.Status, got.Responder, last)
	}
	// The SLA counts from the first assignment (at creation) and arrival (30 s).
	if *got.SLA.TimeToAssignSeconds != 0 || got.SLA.TimeToArriveSeconds == nil || *got.SLA.TimeToArriveSeconds != 30 || got.SLA.State != incident.SLAMet {
		t.Fatalf("SLA after reassignment %+v", got.SLA)
	}
	if r := w.responderState(first); r.Status != incident.Available || r.IncidentID != nil {
		t.Fatalf("stood-down responder %+v", r)
	}
	wantList(t, "events", w.events(inc.ID), "created", "dispatching", "assigned", "on_scene", "assigned")
}

func TestAssignRefuses(t *testing.T) {
	w := newWorld(t)
	busy := w.responder(1, 1)
	inc := w.create(live, incident.High, here) // takes responder 1
	offline := "rsp_0000000000000002"
	if _, err := w.svc.UpsertResponder(w.ctx, live, offline, incident.ResponderInput{Name: "Unit 2", Location: here, Status: incident.Offline}); err != nil {
		t.Fatal(err)
	}
	free := w.responder(3, 60) // out of range: nobody takes it by itself
	other := w.create(live, incident.High, here)
	drill := w.create(auth.Tenant{OrgID: live.OrgID, Env: auth.Test}, incident.High, here)
	resolved := w.create(live, incident.Low, here)
	if _, err := w.svc.SetStatus(w.ctx, live, resolved.ID, incident.UpdateStatusRequest{Status: incident.Resolved}); err != nil {
		t.Fatal(err)
	}
	otherOrg := auth.Tenant{OrgID: "org_other0000000000", Env: auth.Live}
	for _, c := range []struct {
		name   string
		tenant auth.Tenant
		id     string
		req    incident.AssignRequest
		kind   setyerr.Kind
		says   string
	}{
		{"malformed responder id", live, other.ID, incident.AssignRequest{ResponderID: "unit/3"}, setyerr.Invalid, "responder_id"},
		{"long message", live, other.ID, incident.AssignRequest{ResponderID: free, Message: strings.Repeat("x", 1001)}, setyerr.Invalid, "message"},
		{"unknown responder", live, other.ID, incident.AssignRequest{ResponderID: "rsp_0000000000000099"}, setyerr.NotFound, "Responder"},
		{"another tenant's incident", otherOrg, other.ID, incident.AssignRequest{ResponderID: free}, setyerr.NotFound, "Responder"},
		{"the other environment's responder", auth.Tenant{OrgID: live.OrgID, Env: auth.Test}, drill.ID, incident.AssignRequest{ResponderID: free}, setyerr.NotFound, "Responder"},
		{"busy responder", live, other.ID, incident.AssignRequest{ResponderID: busy}, setyerr.Conflict, "busy with " + inc.ID},
		{"responder already on it", live, inc.ID, incident.AssignRequest{ResponderID: busy}, setyerr.Conflict, "already assigned"},
		{"offline responder", live, other.ID, incident.AssignRequest{ResponderID: offline}, setyerr.Conflict, "offline"},
		{"resolved incident", live, resolved.ID, incident.AssignRequest{ResponderID: free}, setyerr.Conflict, "resolved"},
		{"unknown incident", live, "inc_0000000000000099", incident.AssignRequest{ResponderID: free}, setyerr.NotFound, "Incident"},
	} {
		_, err := w.svc.Assign(w.ctx, c.tenant, c.id, c.req)
		if !setyerr.Is(err, c.kind) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v, want %v saying %q", c.name, err, c.kind, c.says)
		}
	}
	// A drill never takes a pool responder, even its own environment's.
	testFree := "rsp_0000000000000042"
	if _, err := w.svc.UpsertResponder(w.ctx, auth.Tenant{OrgID: live.OrgID, Env: auth.Test}, testFree, incident.ResponderInput{Name: "T", Location: here}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Assign(w.ctx, auth.Tenant{OrgID: live.OrgID, Env: auth.Test}, drill.ID, incident.AssignRequest{ResponderID: testFree}); !setyerr.Is(err, setyerr.Conflict) {
		t.Errorf("drill: %v, want Conflict", err)
	}
	if r := w.responderState(free); r.Status != incident.Available {
		t.Fatalf("a refused assignment claimed the responder: %+v", r)
	}
}

// Two dispatchers sending one responder to two incidents at once: one wins.
func TestConcurrentAssignsOfOneResponder(t *testing.T) {
	w := newWorld(t)
	a, b := w.create(live, incident.High, here), w.create(live, incident.High, here) // both queued: no pool
	r := w.responder(1, 60)                                                          // out of range: stays free
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, id := range []string{a.ID, b.ID} {
		wg.Go(func() { _, errs[i] = w.svc.Assign(w.ctx, live, id, incident.AssignRequest{ResponderID: r}) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !setyerr.Is(err, setyerr.Conflict):
			t.Fatalf("loser: %v, want Conflict", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d assignments won: %v", won, errs)
	}
}

package incident_test

import (
	"testing"
	"time"

	"github.com/sety-io/sety/incident"
)

// An assigned responder whose ETA lands after arrive_by puts the incident
// at risk at once, in the assignment's own transaction, with one event.
func TestSLAAtRiskWhenTheETAPassesArriveBy(t *testing.T) {
	w := newWorld(t)
	w.responder(1, 5)                              // 5 km at 30 km/h: ETA 600 s
	inc := w.create(live, incident.Critical, here) // arrive target 480 s
	if inc.Status != incident.Assigned || inc.Responder.ETASeconds != 600 {
		t.Fatalf("created %s, ETA %v", inc.Status, inc.Responder)
	}
	if inc.SLA.State != incident.SLAAtRisk {
		t.Fatalf("state at assignment %s, want at_risk (ETA 600 s, target 480 s)", inc.SLA.State)
	}
	wantList(t, "events", w.events(inc.ID), "created", "dispatching", "assigned", "sla_at_risk")
	w.tick(time.Minute)
	w.svc = w.service() // a restart changes nothing
	w.tick(time.Minute)
	wantList(t, "events after ticks", w.events(inc.ID), "created", "dispatching", "assigned", "sla_at_risk")
	w.tick(7 * time.Minute) // past 480 s: breached, still one at-risk event
	wantList(t, "events after the breach", w.events(inc.ID), "created", "dispatching", "assigned", "sla_at_risk", "sla_breached")
}

// An ETA within the target leaves the incident on track until 80 % of the
// arrival target is gone; then one event, whoever ticks.
func TestSLAAtRiskAtEightyPercentOfArrival(t *testing.T) {
	w := newWorld(t)
	w.responder(1, 1)                          // ETA 120 s
	inc := w.create(live, incident.High, here) // arrive target 600 s: at risk from 480 s
	if inc.SLA.State != incident.SLAOnTrack {
		t.Fatalf("state at assignment %s", inc.SLA.State)
	}
	w.tick(479 * time.Second)
	if got := w.get(live, inc.ID).SLA.State; got != incident.SLAOnTrack {
		t.Fatalf("at 479 s: %s", got)
	}
	w.tick(time.Second)
	if got := w.get(live, inc.ID).SLA.State; got != incident.SLAAtRisk {
		t.Fatalf("at 480 s: %s", got)
	}
	other := w.service() // a second process ticking the same store
	if _, err := other.Tick(w.ctx); err != nil {
		t.Fatal(err)
	}
	w.tick(time.Second)
	wantList(t, "events", w.events(inc.ID), "created", "dispatching", "assigned", "sla_at_risk")
	// Arriving in time: met, and nothing more is sent.
	done, err := w.svc.SetStatus(w.ctx, live, inc.ID, incident.UpdateStatusRequest{Status: incident.OnScene})
	if err != nil || done.SLA.State != incident.SLAMet {
		t.Fatalf("on scene: %v %+v", err, done.SLA)
	}
	w.tick(time.Hour)
	wantList(t, "events at the end", w.events(inc.ID), "created", "dispatching", "assigned", "sla_at_risk", "on_scene")
}

// A queued incident with a responder merely busy elsewhere (none in range
// is free) is at risk from half its assignment target; one that gets a
// responder before then never is.
func TestSLAAtRiskWithNobodyInRange(t *testing.T) {
	w := newWorld(t)
	busy := w.responder(1, 1)
	first := w.create(live, incident.Critical, here) // takes the only responder
	if first.Responder == nil || first.Responder.ResponderID != busy {
		t.Fatalf("first: %+v", first.Responder)
	}
	queued := w.create(live, incident.Critical, here) // assign target 60 s: at risk from 30 s
	if queued.Status != incident.Dispatching || queued.SLA.State != incident.SLAOnTrack {
		t.Fatalf("queued: %s %s", queued.Status, queued.SLA.State)
	}
	w.tick(29 * time.Second)
	if got := w.get(live, queued.ID).SLA.State; got != incident.SLAOnTrack {
		t.Fatalf("at 29 s: %s", got)
	}
	w.tick(time.Second)
	if got := w.get(live, queued.ID).SLA.State; got != incident.SLAAtRisk {
		t.Fatalf("at 30 s: %s", got)
	}
	wantList(t, "events", w.events(queued.ID), "created", "dispatching", "sla_at_risk")
}

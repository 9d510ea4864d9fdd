package incident_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
)

// awayKm is a point km kilometres north of here.
func awayKm(km float64) geo.Point { return geo.NewPoint(here.Lat()+km/111.195, here.Lng()) }

// No responder farther than the dispatch range is ever sent: London is not
// served from Lagos. The queued incident says why it waits.
func TestDispatchRange(t *testing.T) {
	w := newWorld(t)
	lagosUnit := w.responder(1, 0)
	london := geo.NewPoint(51.5072, -0.1276)
	inc := w.create(live, incident.Critical, london)
	if inc.Status != incident.Dispatching || inc.Responder != nil {
		t.Fatalf("London incident: %s, responder %+v", inc.Status, inc.Responder)
	}
	msg := inc.Timeline[len(inc.Timeline)-1].Message
	if msg != "No responder is available within the 50 km dispatch range: waiting for one" {
		t.Fatalf("queued message %q does not say nobody is in range", msg)
	}
	if w.responderState(lagosUnit).Status != incident.Available {
		t.Fatal("an out-of-range responder was claimed")
	}
	// Just inside the range is assigned; just outside is not.
	w2 := newWorld(t)
	w2.responder(1, 49.5)
	if got := w2.create(live, incident.High, here); got.Status != incident.Assigned {
		t.Fatalf("responder 49.5 km away: %s, want assigned", got.Status)
	}
	w3 := newWorld(t)
	w3.responder(1, 50.5)
	if got := w3.create(live, incident.High, here); got.Status != incident.Dispatching {
		t.Fatalf("responder 50.5 km away: %s, want queued", got.Status)
	}
}

// The range is configurable per tenant and category.
func TestDispatchRangePerCategory(t *testing.T) {
	w := newWorld(t)
	w.svc = incident.NewService(w.st.IncidentStore(), incident.Config{Now: w.clk.Now, NewID: w.ids, Responders: w.st.ResponderStore(),
		DispatchRange: func(_ auth.Tenant, c incident.Category) float64 {
			if c == incident.Medical {
				return 20_000
			}
			return 5_000
		}})
	w.responder(1, 10)
	sos := w.create(live, incident.High, here)
	medical, _, err := w.svc.Create(w.ctx, live, incident.CreateIncidentRequest{Category: incident.Medical, Location: incident.Location{Coordinates: here}})
	if err != nil {
		t.Fatal(err)
	}
	if sos.Status != incident.Dispatching || medical.Status != incident.Assigned {
		t.Fatalf("10 km away: sos %s (range 5 km), medical %s (range 20 km)", sos.Status, medical.Status)
	}
	if msg := sos.Timeline[len(sos.Timeline)-1].Message; !strings.Contains(msg, "within the 5.0 km dispatch range") {
		t.Fatalf("message %q", msg)
	}
}

// A responder coming on duty takes the most severe, oldest queued incident
// within its reach, not a more severe one out of range; a queue thousands
// long neither delays a new incident's dispatch nor the offer.
func TestOfferGoesToMostSevereOldestInRange(t *testing.T) {
	w := newWorld(t)
	for i := range 2000 { // a long queue, far from the action
		w.create(live, incident.Severities[i%4], awayKm(200+float64(i%50)))
	}
	farCritical := w.create(live, incident.Critical, awayKm(80))
	oldHigh := w.create(live, incident.High, awayKm(2))
	w.clk.Advance(time.Second)
	newHigh := w.create(live, incident.High, awayKm(1))
	w.clk.Advance(time.Second)
	low := w.create(live, incident.Low, here)
	for _, inc := range []*incident.Incident{farCritical, oldHigh, newHigh, low} {
		if inc.Status != incident.Dispatching {
			t.Fatalf("with no responder: %s", inc.Status)
		}
	}
	r1 := w.responder(1, 0)
	if got := w.get(live, oldHigh.ID); got.Status != incident.Assigned || got.Responder.ResponderID != r1 {
		t.Fatalf("the oldest high incident in range: %s %+v", got.Status, got.Responder)
	}
	r2 := w.responder(2, 0)
	if got := w.get(live, newHigh.ID); got.Responder == nil || got.Responder.ResponderID != r2 {
		t.Fatalf("the next high incident: %s %+v", got.Status, got.Responder)
	}
	if w.get(live, farCritical.ID).Status != incident.Dispatching || w.get(live, low.ID).Status != incident.Dispatching {
		t.Fatal("an incident was served out of order or out of range")
	}
	// A new critical incident is assigned at once by the next free unit,
	// however long the queue.
	r3 := w.responder(3, 0.5)
	if got := w.get(live, low.ID); got.Responder == nil || got.Responder.ResponderID != r3 {
		t.Fatalf("low after r3: %s", got.Status)
	}
	w.responder(4, 0.5)
	if got := w.create(live, incident.Critical, here); got.Status != incident.Assigned {
		t.Fatalf("a new critical incident beside a free unit: %s", got.Status)
	}
}

// A responder moved into reach of a queued incident takes it.
func TestMovedResponderIsOffered(t *testing.T) {
	w := newWorld(t)
	id := w.responder(1, 300) // out of reach
	inc := w.create(live, incident.High, here)
	if inc.Status != incident.Dispatching {
		t.Fatalf("%s", inc.Status)
	}
	if _, err := w.svc.UpsertResponder(w.ctx, live, id, incident.ResponderInput{Name: "Unit 1", Location: awayKm(3)}); err != nil {
		t.Fatal(err)
	}
	if got := w.get(live, inc.ID); got.Status != incident.Assigned {
		t.Fatalf("after the move: %s", got.Status)
	}
	wantList(t, "events", w.events(inc.ID), "created", "dispatching", "assigned")
}

// A tenant whose last create was queued tries the queued create first; a
// responder on duty since makes the store refuse it, and the create is
// ranked and assigned in a second attempt, which starts from the incident
// as received: nothing of the first attempt (its waiting entry, its
// events, its none-in-range mark) shows.
func TestCreateRetriedAfterTheQueuedCreateRefusedStartsAfresh(t *testing.T) {
	w := newWorld(t)
	far := w.create(live, incident.High, geo.NewPoint(here.Lat(), here.Lng()-200/110.5)) // queued; 200 km from the responder to come
	if far.Status != incident.Dispatching {
		t.Fatalf("first create: %s, want dispatching", far.Status)
	}
	unit := w.responder(1, 1)
	inc := w.create(live, incident.High, here)
	if inc.Status != incident.Assigned || inc.Responder == nil || inc.Responder.ResponderID != unit || inc.Sequence != 3 {
		t.Fatalf("second create: %s %+v sequence %d, want assigned to %s at sequence 3", inc.Status, inc.Responder, inc.Sequence, unit)
	}
	var timeline []string
	for _, e := range inc.Timeline {
		timeline = append(timeline, string(e.Event)+": "+e.Message)
	}
	wantList(t, "timeline", timeline, "created: Incident received", "dispatching: Finding the nearest available responder",
		"assigned: "+inc.Timeline[2].Message)
	wantList(t, "events", w.events(inc.ID), "created", "dispatching", "assigned")
	if got := w.get(live, inc.ID); got.Tracking.NoneInRange || got.Status != incident.Assigned || len(got.Timeline) != 3 {
		t.Fatalf("stored: %s, %d timeline entries, none in range %v", got.Status, len(got.Timeline), got.Tracking.NoneInRange)
	}
}

package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
)

// testReassign holds an adapter to what a dispatcher's reassignment needs:
// one update that releases the incident's responder and claims another,
// atomically, and writes nothing when the new one is not available.
func testReassign(t *testing.T, newStores NewStores) {
	t.Parallel()
	ctx := context.Background()
	stores, here := oneResponder(t, newStores)
	st, pool := stores.IncidentStore(), stores.ResponderStore()
	putResponder(t, pool, tenantA, rspID(2), here, incident.Available, base)
	putResponder(t, pool, tenantA, rspID(3), here, incident.Offline, base)
	inc := create(t, st, newIncident(t, tenantA, base))
	at := base.Add(time.Minute)
	update := func(e incident.Effects) error {
		_, err := st.UpdateIncident(ctx, tenantA, inc.ID, func(cur *incident.Incident) (incident.Effects, error) {
			cur.Status = incident.Assigned
			cur.Sequence++
			e.At, e.Events = at, []outbox.Event{eventFor(t, "incident.assigned", cur)}
			return e, nil
		})
		return err
	}
	status := func(n int) incident.ResponderStatus {
		t.Helper()
		r, _, err := pool.ListResponders(ctx, tenantA, incident.ResponderFilter{ID: rspID(n), Limit: 1})
		must(t, err)
		return r[0].Status
	}
	must(t, update(incident.Effects{Claim: rspID(1)}))
	// Swapping to an offline responder fails whole: the first stays busy.
	if err := update(incident.Effects{Release: rspID(1), Claim: rspID(3)}); !errors.Is(err, incident.ErrResponderUnavailable) {
		t.Fatalf("reassigning to an offline responder: %v", err)
	}
	if status(1) != incident.Busy {
		t.Fatal("a failed reassignment released the responder")
	}
	if got, _ := st.GetIncident(ctx, tenantA, inc.ID); got.Sequence != 2 {
		t.Fatalf("a failed reassignment wrote the incident: sequence %d", got.Sequence)
	}
	// Swapping to an available one frees the first and takes the second.
	must(t, update(incident.Effects{Release: rspID(1), Claim: rspID(2)}))
	if status(1) != incident.Available || status(2) != incident.Busy {
		t.Fatalf("after the reassignment: %s, %s", status(1), status(2))
	}
	r, _, _ := pool.ListResponders(ctx, tenantA, incident.ResponderFilter{ID: rspID(2), Limit: 1})
	if r[0].IncidentID == nil || *r[0].IncidentID != inc.ID {
		t.Fatalf("the new responder is on %v", r[0].IncidentID)
	}
	if near, _ := pool.NearestAvailable(ctx, tenantA, here, 5, 0); len(near) != 1 || near[0].ID != rspID(1) {
		t.Fatalf("available after the reassignment: %v", near)
	}
}

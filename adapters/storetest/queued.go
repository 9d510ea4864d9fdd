package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/setyerr"
)

// testQueuedCreate checks incident.QueueingStore, for stores that have it:
// a queued create is refused, writing nothing, while an available
// responder of the tenant is within range, and stored otherwise (busy,
// out of range, another tenant's or environment's); a used idempotency key
// answers first.
func testQueuedCreate(t *testing.T, newStores NewStores) {
	t.Parallel()
	ctx := context.Background()
	stores := newStores(t)
	q, ok := stores.IncidentStore().(incident.QueueingStore)
	if !ok {
		t.Fatal("the store is no incident.QueueingStore")
	}
	pool := stores.ResponderStore()
	events := 0
	queue := func(inc *incident.Incident, withinM float64) (*incident.Incident, bool, error) {
		t.Helper()
		inc.Status = incident.Dispatching
		got, created, err := q.CreateQueued(ctx, inc, withEvents(eventFor(t, incident.TypeCreated, inc)), withinM)
		if created {
			events++
		}
		return got, created, err
	}
	stored := func(what string, inc *incident.Incident, withinM float64) {
		t.Helper()
		got, created, err := queue(inc, withinM)
		must(t, err)
		if !created || got.ID != inc.ID || got.Status != incident.Dispatching {
			t.Fatalf("%s: created %v, %+v", what, created, got)
		}
	}
	refused := func(what string, inc *incident.Incident, withinM float64) {
		t.Helper()
		if _, _, err := queue(inc, withinM); !errors.Is(err, incident.ErrResponderAvailable) {
			t.Fatalf("%s: %v, want ErrResponderAvailable", what, err)
		}
		if _, err := stores.IncidentStore().GetIncident(ctx, inc.Tenant(), inc.ID); !setyerr.Is(err, setyerr.NotFound) {
			t.Fatalf("%s: the refused incident was stored: %v", what, err)
		}
		pending(t, stores, events)
	}

	inc := newIncident(t, tenantA, base) // 11.7 km from here
	here := geo.NewPoint(6.5244, 3.3792)
	stored("an empty pool", inc, 50_000)
	pending(t, stores, events)

	putResponder(t, pool, tenantA, rspID(1), here, incident.Available, base)
	refused("a responder 11.7 km away, range 50 km", newIncident(t, tenantA, base), 50_000)
	stored("a responder 11.7 km away, range 10 km", newIncident(t, tenantA, base), 10_000)
	stored("another tenant's responder", newIncident(t, tenantB, base), 50_000)
	stored("the other environment's responder", newIncident(t, tenantATest, base), 50_000)

	keyed := newIncident(t, tenantA, base)
	keyed.IdempotencyKey = ptr("queued-once")
	putResponder(t, pool, tenantA, rspID(1), here, incident.Busy, base)
	stored("a busy responder", keyed, 50_000)
	putResponder(t, pool, tenantA, rspID(1), here, incident.Available, base.Add(time.Minute))
	again := newIncident(t, tenantA, base)
	again.IdempotencyKey = ptr("queued-once")
	got, created, err := queue(again, 50_000)
	must(t, err)
	if created || got.ID != keyed.ID {
		t.Fatalf("a used idempotency key: created %v, id %s, want %s", created, got.ID, keyed.ID)
	}

	// Across the antimeridian: 2.2 km apart, on both sides of it.
	far := auth.Tenant{OrgID: tenantB.OrgID, Env: auth.Live}
	putResponder(t, pool, far, rspID(2), geo.NewPoint(-16.5, 179.99), incident.Available, base)
	east := newIncident(t, far, base)
	east.Location.Coordinates = geo.NewPoint(-16.5, -179.99)
	refused("a responder across the antimeridian", east, 5_000)
}

// queuedSeesOtherInstances checks that CreateQueued through one handle
// sees a responder put on duty through another: the look at the pool is
// made in the insert's transaction, never from a copy.
func queuedSeesOtherInstances(t *testing.T, handles []Stores) {
	ctx := context.Background()
	q := handles[0].IncidentStore().(incident.QueueingStore)
	first := newIncident(t, tenantA, base)
	first.Status = incident.Dispatching
	if _, created, err := q.CreateQueued(ctx, first, withEvents(eventFor(t, incident.TypeCreated, first)), 50_000); err != nil || !created {
		t.Fatalf("queued create on an empty pool: created %v, %v", created, err)
	}
	putResponder(t, handles[1].ResponderStore(), tenantA, rspID(1), geo.NewPoint(6.5244, 3.3792), incident.Available, base)
	second := newIncident(t, tenantA, base)
	second.Status = incident.Dispatching
	if _, _, err := q.CreateQueued(ctx, second, withEvents(eventFor(t, incident.TypeCreated, second)), 50_000); !errors.Is(err, incident.ErrResponderAvailable) {
		t.Fatalf("queued create after another instance put a responder on duty: %v, want ErrResponderAvailable", err)
	}
}

package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
	"github.com/sety-io/sety/webhook"
)

func newEndpoint(t testing.TB, tenant auth.Tenant, events ...string) *webhook.Endpoint {
	return &webhook.Endpoint{
		ID: fixtureID(t, "we"), URL: "https://example.com/hooks?x='1'", Events: events, Status: webhook.Enabled,
		Description: ptr("ops; DROP TABLE"), CreatedAt: clock.At(base), UpdatedAt: clock.At(base), OrgID: tenant.OrgID, Environment: tenant.Env,
		Secret: "whsec_c2VjcmV0", PreviousSecret: "whsec_b2xk", PreviousExpiresAt: base.Add(time.Hour), FailingSince: base.Add(-time.Hour),
		Failures: 2, PausedUntil: base.Add(-time.Minute),
	}
}

// planAll makes one delivery per endpoint wanting the event, as the
// service does: pending for an enabled endpoint, skipped for a disabled one.
func planAll(t testing.TB) func(outbox.Event, []*webhook.Endpoint) []*webhook.Delivery {
	return func(ev outbox.Event, endpoints []*webhook.Endpoint) []*webhook.Delivery {
		var out []*webhook.Delivery
		for _, e := range endpoints {
			if e.Wants(ev.Type) {
				d := &webhook.Delivery{ID: fixtureID(t, "whd"), EndpointID: e.ID, EventID: ev.ID, EventType: ev.Type,
					Status: webhook.Pending, NextAttemptAt: clock.At(ev.CreatedAt), CreatedAt: clock.At(ev.CreatedAt), OrgID: e.OrgID, Environment: e.Environment}
				if e.Status != webhook.Enabled {
					d.Status, d.NextAttemptAt = webhook.Skipped, clock.Time{}
				}
				out = append(out, d)
			}
		}
		return out
	}
}

// TestWebhooks checks the webhook store and queue: endpoints, fan-out of the
// outbox, leases and attempts, and the delivery log with redelivery.
func TestWebhooks(t *testing.T, newStores NewStores, f Features) {
	newStores = seeded(newStores)
	ctx := context.Background()

	t.Run("Endpoints", func(t *testing.T) {
		t.Parallel()
		st := newStores(t).WebhookStore()
		e := newEndpoint(t, tenantA, "incident.*", "ping")
		must(t, st.CreateEndpoint(ctx, e))
		wantKind(t, st.CreateEndpoint(ctx, e), setyerr.Conflict)
		got, err := st.GetEndpoint(ctx, tenantA, e.ID)
		must(t, err)
		if !reflect.DeepEqual(got, e) {
			t.Fatalf("endpoint %+v, want %+v", got, e)
		}
		for _, other := range []auth.Tenant{tenantB, tenantATest} {
			_, err := st.GetEndpoint(ctx, other, e.ID)
			wantKind(t, err, setyerr.NotFound)
			wantKind(t, st.DeleteEndpoint(ctx, other, e.ID), setyerr.NotFound)
			_, err = st.UpdateEndpoint(ctx, other, e.ID, func(*webhook.Endpoint) error { return nil })
			wantKind(t, err, setyerr.NotFound)
		}
		e2 := newEndpoint(t, tenantA, "*")
		e2.CreatedAt = clock.At(base.Add(time.Second))
		must(t, st.CreateEndpoint(ctx, e2))
		must(t, st.CreateEndpoint(ctx, newEndpoint(t, tenantB, "*")))
		list, total, err := st.ListEndpoints(ctx, tenantA, 0, 10)
		must(t, err)
		if total != 2 || list[0].ID != e.ID || list[1].ID != e2.ID {
			t.Fatalf("list: %d %v", total, list)
		}
		boom := errors.New("boom")
		_, err = st.UpdateEndpoint(ctx, tenantA, e.ID, func(x *webhook.Endpoint) error { x.URL = "https://changed"; return boom })
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		up, err := st.UpdateEndpoint(ctx, tenantA, e.ID, func(x *webhook.Endpoint) error {
			x.Status, x.DisabledReason, x.Events = webhook.Disabled, ptr("410"), []string{"ping"}
			return nil
		})
		must(t, err)
		again, _ := st.GetEndpoint(ctx, tenantA, e.ID)
		if !reflect.DeepEqual(again, up) || again.URL != e.URL {
			t.Fatalf("after update %+v", again)
		}
		must(t, st.DeleteEndpoint(ctx, tenantA, e.ID))
		_, err = st.GetEndpoint(ctx, tenantA, e.ID)
		wantKind(t, err, setyerr.NotFound)
	})

	t.Run("FanOutCreatesDeliveriesAndPublishes", func(t *testing.T) {
		t.Parallel()
		stores := newStores(t)
		st, q, inc := stores.WebhookStore(), stores.WebhookQueue(), stores.IncidentStore()
		all := newEndpoint(t, tenantA, "incident.*")
		created := newEndpoint(t, tenantA, "incident.created")
		disabled := newEndpoint(t, tenantA, "*")
		disabled.Status = webhook.Disabled
		otherEnv := newEndpoint(t, tenantATest, "*")
		for _, e := range []*webhook.Endpoint{all, created, disabled, otherEnv} {
			must(t, st.CreateEndpoint(ctx, e))
		}
		a := newIncident(t, tenantA, base)
		create(t, inc, a) // incident.created
		_, err := inc.UpdateIncident(ctx, tenantA, a.ID, func(cur *incident.Incident) (incident.Effects, error) {
			cur.Sequence++
			return incident.Effects{Events: []outbox.Event{eventFor(t, "incident.cancelled", cur)}}, nil
		})
		must(t, err)
		n, err := q.FanOut(ctx, 10, planAll(t))
		must(t, err)
		if n != 2 {
			t.Fatalf("fanned out %d events, want 2", n)
		}
		pending(t, stores, 0)
		if n, _ := q.FanOut(ctx, 10, planAll(t)); n != 0 {
			t.Fatalf("second fan-out took %d events", n)
		}
		// plan sees every endpoint of the tenant, disabled too.
		for e, want := range map[*webhook.Endpoint]int{all: 2, created: 1, disabled: 2, otherEnv: 0} {
			_, total, err := st.ListDeliveries(ctx, e.Tenant(), e.ID, "", 0, 10)
			must(t, err)
			if total != want {
				t.Errorf("endpoint %v: %d deliveries, want %d", e.Events, total, want)
			}
		}
		if _, skipped, _ := st.ListDeliveries(ctx, tenantA, disabled.ID, webhook.Skipped, 0, 10); skipped != 2 {
			t.Errorf("%d skipped deliveries of the disabled endpoint, want 2", skipped)
		}
	})

	t.Run("UpdateEndpointsPages", single(newStores, updateEndpointsPages))
	t.Run("PendingDeliveries", single(newStores, pendingDeliveries))
	// Each of these runs on one handle, and again on two handles on one
	// database, as instances sharing it.
	for _, c := range []struct {
		name, shared string
		fn           func(*testing.T, []Stores)
	}{
		{"SecretKeyIsStable", "SharedSecretKey", sameSecretKey},
		{"DisabledEndpointResumes", "SharedDisabledEndpointResumes", resumeSkipped},
		{"LeasesAndAttempts", "SharedLeases", leases},
		{"FairClaims", "SharedFairClaims", fairClaims},
		{"LineOrder", "SharedLineOrder", lineOrder},
		{"Breaker", "SharedBreaker", breaker},
		{"ConcurrentFanOut", "SharedFanOut", fanOutOnce},
	} {
		t.Run(c.name, single(newStores, c.fn))
		t.Run(c.shared, shared(newStores, f, c.fn))
	}

	t.Run("ListAndRedeliver", func(t *testing.T) {
		t.Parallel()
		stores := newStores(t)
		st := stores.WebhookStore()
		e := newEndpoint(t, tenantA, "*")
		must(t, st.CreateEndpoint(ctx, e))
		var ids []string
		for i := range 3 {
			evID := fixtureID(t, "evt")
			ev := outbox.Event{ID: evID, OrgID: tenantA.OrgID, Environment: "live", Type: "ping", SubjectID: evID, Sequence: 1, Data: []byte(`{}`), CreatedAt: base}
			d := &webhook.Delivery{ID: fixtureID(t, "whd"), EndpointID: e.ID, EventID: ev.ID, EventType: "ping", Status: []string{webhook.Pending, webhook.Succeeded, webhook.Failed}[i],
				NextAttemptAt: clock.At(base), CreatedAt: clock.At(base.Add(time.Duration(i) * time.Second)), OrgID: tenantA.OrgID, Environment: auth.Live}
			must(t, st.AddDelivery(ctx, ev, d))
			ids = append(ids, d.ID)
		}
		list, total, err := st.ListDeliveries(ctx, tenantA, e.ID, "", 0, 2)
		must(t, err)
		if total != 3 || list[0].ID != ids[2] || list[1].ID != ids[1] {
			t.Fatalf("newest first: %d %v", total, list)
		}
		failed, total, _ := st.ListDeliveries(ctx, tenantA, e.ID, webhook.Failed, 0, 10)
		if total != 1 || failed[0].ID != ids[2] {
			t.Fatalf("failed: %v", failed)
		}
		re := failed[0].Clone()
		re.ID, re.Status, re.CreatedAt = fixtureID(t, "whd"), webhook.Pending, clock.At(base.Add(time.Hour))
		must(t, st.InsertDelivery(ctx, re))
		if _, total, _ := st.ListDeliveries(ctx, tenantA, e.ID, webhook.Pending, 0, 10); total != 2 {
			t.Fatalf("%d pending after redelivery, want 2", total)
		}
		other := re.Clone()
		other.ID, other.OrgID = fixtureID(t, "whd"), tenantB.OrgID
		wantKind(t, st.InsertDelivery(ctx, other), setyerr.NotFound)
		// Ids are unique: a delivery's, and an event's.
		wantKind(t, st.InsertDelivery(ctx, re), setyerr.Conflict)
		evID := fixtureID(t, "evt")
		ping := outbox.Event{ID: evID, OrgID: tenantA.OrgID, Environment: "live", Type: "ping", SubjectID: evID, Sequence: 1, Data: []byte(`{}`), CreatedAt: base}
		again := re.Clone()
		again.EventID = evID
		wantKind(t, st.AddDelivery(ctx, ping, again), setyerr.Conflict)
		again.ID = fixtureID(t, "whd")
		must(t, st.AddDelivery(ctx, ping, again))
		ping.SubjectID = fixtureID(t, "evt")
		again.ID = fixtureID(t, "whd")
		wantKind(t, st.AddDelivery(ctx, ping, again), setyerr.Conflict)
		if _, total, _ := st.ListDeliveries(ctx, tenantA, e.ID, "", 0, 10); total != 5 {
			t.Fatalf("%d deliveries after refused adds, want 5", total)
		}
	})
}

// leases adds a due delivery, has six workers claim it at once through the
// handles in turn, and checks that exactly one gets it, that nobody else
// does until the lease expires, that the first owner's attempt is refused
// once another took the delivery over, and that an attempt is recorded.
func leases(t *testing.T, handles []Stores) {
	ctx := context.Background()
	st, q := handles[0].WebhookStore(), handles[0].WebhookQueue()
	e := newEndpoint(t, tenantA, "*")
	must(t, st.CreateEndpoint(ctx, e))
	ev := outbox.Event{ID: fixtureID(t, "evt"), OrgID: tenantA.OrgID, Environment: "live", Type: "ping", SubjectID: e.ID, Sequence: 1, Data: []byte(`{"a":1}`), CreatedAt: base}
	d := &webhook.Delivery{ID: fixtureID(t, "whd"), EndpointID: e.ID, EventID: ev.ID, EventType: "ping", Status: webhook.Pending,
		NextAttemptAt: clock.At(base), CreatedAt: clock.At(base), OrgID: tenantA.OrgID, Environment: auth.Live}
	must(t, st.AddDelivery(ctx, ev, d))
	pending(t, handles[0], 0) // a ping never waits for fan-out
	if jobs, _ := q.ClaimDeliveries(ctx, claimAll("w1", base.Add(-time.Second), base)); len(jobs) != 0 {
		t.Fatal("claimed a delivery before it was due")
	}
	// Racing workers: exactly one gets the delivery.
	var wg sync.WaitGroup
	var mu sync.Mutex
	winners := []int{}
	for i := range 6 {
		q := handles[i%len(handles)].WebhookQueue()
		wg.Go(func() {
			jobs, err := q.ClaimDeliveries(ctx, claimAll(fmt.Sprintf("w%d", i), base, base.Add(time.Minute)))
			if err != nil {
				t.Error(err)
			}
			if len(jobs) > 0 {
				mu.Lock()
				winners = append(winners, i)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d workers claimed the delivery, want 1", len(winners))
	}
	// The winner works through its handle, a late worker through the next.
	winner, mine := fmt.Sprintf("w%d", winners[0]), handles[winners[0]%len(handles)].WebhookQueue()
	late := handles[(winners[0]+1)%len(handles)].WebhookQueue()
	// Until the lease expires nobody else gets it; after, someone may.
	if jobs, _ := late.ClaimDeliveries(ctx, claimAll("late", base.Add(59*time.Second), base.Add(2*time.Minute))); len(jobs) != 0 {
		t.Fatal("claimed a leased delivery")
	}
	jobs, err := late.ClaimDeliveries(ctx, claimAll("late", base.Add(time.Minute), base.Add(2*time.Minute)))
	must(t, err)
	if len(jobs) != 1 || jobs[0].Event.ID != ev.ID || string(jobs[0].Event.Data) != `{"a":1}` || jobs[0].Endpoint.Secret != e.Secret {
		t.Fatalf("job %+v", jobs)
	}
	// The first owner lost its lease: its record is refused.
	err = mine.FinishAttempt(ctx, winner, d.ID, func(*webhook.Delivery, *webhook.Endpoint) error { return nil })
	wantKind(t, err, setyerr.Conflict)
	must(t, late.FinishAttempt(ctx, "late", d.ID, func(d *webhook.Delivery, e *webhook.Endpoint) error {
		code, body, ms := 503, "busy", int64(12)
		d.Attempts, d.Status, d.ResponseStatus, d.ResponseBody, d.DurationMs = 1, webhook.Pending, &code, &body, &ms
		d.LastAttemptAt, d.NextAttemptAt = clock.At(base.Add(time.Minute)), clock.At(base.Add(time.Minute+5*time.Second))
		e.FailingSince = base.Add(time.Minute)
		return nil
	}))
	// Every handle sees the attempt.
	got, err := handles[len(handles)-1].WebhookStore().GetDelivery(ctx, tenantA, e.ID, d.ID)
	must(t, err)
	if got.Attempts != 1 || *got.ResponseStatus != 503 || *got.ResponseBody != "busy" || !got.NextAttemptAt.Equal(base.Add(time.Minute+5*time.Second)) {
		t.Fatalf("after the attempt %+v", got)
	}
	if ep, _ := st.GetEndpoint(ctx, tenantA, e.ID); !ep.FailingSince.Equal(base.Add(time.Minute)) {
		t.Fatal("endpoint change not stored")
	}
	// Finishing ended the lease: it is claimable when due again.
	if jobs, _ := q.ClaimDeliveries(ctx, claimAll("w9", base.Add(time.Minute+5*time.Second), base.Add(3*time.Minute))); len(jobs) != 1 {
		t.Fatal("the retry is not claimable when due")
	}
	// Deliveries of a disabled endpoint wait.
	_, err = st.UpdateEndpoint(ctx, tenantA, e.ID, func(e *webhook.Endpoint) error { e.Status = webhook.Disabled; return nil })
	must(t, err)
	if jobs, _ := q.ClaimDeliveries(ctx, claimAll("w10", base.Add(time.Hour), base.Add(2*time.Hour))); len(jobs) != 0 {
		t.Fatal("claimed a delivery of a disabled endpoint")
	}
	_, err = st.GetDelivery(ctx, tenantB, e.ID, d.ID)
	wantKind(t, err, setyerr.NotFound)
}

// fanOutOnce commits events through the handles in turn while workers on
// every handle fan out at once, and checks that each event became exactly
// one delivery.
func fanOutOnce(t *testing.T, handles []Stores) {
	ctx := context.Background()
	e := newEndpoint(t, tenantA, "*")
	must(t, handles[0].WebhookStore().CreateEndpoint(ctx, e))
	const events = 12
	var wg sync.WaitGroup
	for i := range events {
		st := handles[i%len(handles)].IncidentStore()
		inc := newIncident(t, tenantA, base.Add(time.Duration(i)*time.Second))
		ev := eventFor(t, incident.TypeCreated, inc)
		wg.Go(func() {
			_, _, err := st.CreateIncident(ctx, inc, withEvents(ev))
			if err != nil {
				t.Error(err)
			}
		})
	}
	taken := make([]int, 2*len(handles))
	for i := range taken {
		q := handles[i%len(handles)].WebhookQueue()
		wg.Go(func() {
			for range events {
				n, err := q.FanOut(ctx, 2, planAll(t))
				if err != nil {
					t.Error(err)
					return
				}
				taken[i] += n
			}
		})
	}
	wg.Wait()
	for _, h := range handles { // what a worker started late finds
		n, err := h.WebhookQueue().FanOut(ctx, events, planAll(t))
		must(t, err)
		taken[0] += n
		pending(t, h, 0)
	}
	total := 0
	for _, n := range taken {
		total += n
	}
	deliveries, _, err := handles[len(handles)-1].WebhookStore().ListDeliveries(ctx, tenantA, e.ID, "", 0, 2*events)
	must(t, err)
	seen := map[string]bool{}
	for _, d := range deliveries {
		seen[d.EventID] = true
	}
	if total != events || len(deliveries) != events || len(seen) != events {
		t.Fatalf("fan-outs took %d events and made %d deliveries of %d events, want %d of each", total, len(deliveries), len(seen), events)
	}
}

package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
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

// claimAll is a claim of up to 100 deliveries with no caps.
func claimAll(owner string, now, until time.Time) webhook.Claim {
	return webhook.Claim{Owner: owner, Now: now, Until: until, Limit: 100}
}

// claim runs c through q and fails the test on an error.
func claim(t testing.TB, q webhook.Queue, c webhook.Claim) []webhook.Job {
	t.Helper()
	jobs, err := q.ClaimDeliveries(context.Background(), c)
	must(t, err)
	return jobs
}

// pings adds n deliveries to endpoint e, due at base, each of its own
// subject (as pings are), and returns their ids in insertion order.
func pings(t testing.TB, st webhook.Store, e *webhook.Endpoint, n int) []string {
	t.Helper()
	var ids []string
	for range n {
		evID := fixtureID(t, "evt")
		ev := outbox.Event{ID: evID, OrgID: e.OrgID, Environment: string(e.Environment), Type: "ping", SubjectID: evID, Sequence: 1, Data: []byte(`{}`), CreatedAt: base}
		d := &webhook.Delivery{ID: fixtureID(t, "whd"), EndpointID: e.ID, EventID: evID, EventType: "ping", Status: webhook.Pending,
			NextAttemptAt: clock.At(base), CreatedAt: clock.At(base), OrgID: e.OrgID, Environment: e.Environment}
		must(t, st.AddDelivery(context.Background(), ev, d))
		ids = append(ids, d.ID)
	}
	return ids
}

// countBy returns how many jobs each endpoint got.
func countBy(jobs []webhook.Job) map[string]int {
	n := map[string]int{}
	for _, j := range jobs {
		n[j.Endpoint.ID]++
	}
	return n
}

// finish records an attempt of a leased delivery that leaves it in status.
func finish(t testing.TB, q webhook.Queue, owner, id string, status string) {
	t.Helper()
	must(t, q.FinishAttempt(context.Background(), owner, id, func(d *webhook.Delivery, _ *webhook.Endpoint) error {
		d.Attempts++
		d.Status, d.NextAttemptAt, d.LastAttemptAt = status, clock.Time{}, clock.At(base)
		return nil
	}))
}

// fairClaims gives one endpoint a backlog of 50 deliveries and two others
// (one of the same tenant, one of another) two each, inserted after the
// backlog, and checks that claims take from every endpoint and tenant in
// turn, never more than an endpoint's or a tenant's room, counting the
// leases taken through either handle.
func fairClaims(t *testing.T, handles []Stores) {
	ctx := context.Background()
	st := handles[0].WebhookStore()
	big, small, other := newEndpoint(t, tenantA, "*"), newEndpoint(t, tenantA, "*"), newEndpoint(t, tenantB, "*")
	for _, e := range []*webhook.Endpoint{big, small, other} {
		e.Failures, e.PausedUntil = 0, time.Time{}
		must(t, st.CreateEndpoint(ctx, e))
	}
	pings(t, st, big, 50)
	pings(t, st, small, 2)
	pings(t, st, other, 2)
	q0, q1 := handles[0].WebhookQueue(), handles[len(handles)-1].WebhookQueue()
	lease := base.Add(time.Minute)

	// Round-robin: tenant A's first (big), tenant B's first, tenant A's
	// second (small), B's second, then A's third and fourth.
	jobs := claim(t, q0, webhook.Claim{Owner: "w1", Now: base, Until: lease, Limit: 6})
	var order []string
	for _, j := range jobs {
		order = append(order, map[string]string{big.ID: "big", small.ID: "small", other.ID: "other"}[j.Endpoint.ID])
	}
	if fmt.Sprint(order) != "[big other small other big small]" {
		t.Fatalf("claim order %v, want [big other small other big small]", order)
	}
	// At most 4 leases of an endpoint, across owners and handles: big
	// holds 2, so it gets 2 more, then none.
	caps := webhook.Claim{Owner: "w2", Now: base, Until: lease, Limit: 100, PerEndpoint: 4}
	if got := countBy(claim(t, q1, caps)); got[big.ID] != 2 || len(got) != 1 {
		t.Fatalf("second claim with 4 per endpoint: %v, want 2 of the backlog", got)
	}
	if got := claim(t, q0, caps); len(got) != 0 {
		t.Fatalf("third claim with 4 per endpoint: %d jobs, want none", len(got))
	}
	// A finished attempt frees its endpoint's slot.
	finish(t, q0, "w1", jobs[0].Delivery.ID, webhook.Succeeded)
	if got := countBy(claim(t, q1, caps)); got[big.ID] != 1 || len(got) != 1 {
		t.Fatalf("after one attempt ended: %v, want 1 of the backlog", got)
	}
	// Once the leases expire, a tenant cap of 5 gives tenant A five
	// (round-robin over its endpoints) and tenant B its two.
	later := base.Add(2 * time.Minute)
	got := countBy(claim(t, q0, webhook.Claim{Owner: "w3", Now: later, Until: later.Add(time.Minute), Limit: 100, PerTenant: 5}))
	if got[big.ID] != 3 || got[small.ID] != 2 || got[other.ID] != 2 {
		t.Fatalf("claim with 5 per tenant: %v, want big 3, small 2, other 2", got)
	}
	if got := claim(t, q1, webhook.Claim{Owner: "w4", Now: later, Until: later.Add(time.Minute), Limit: 100, PerTenant: 5}); len(got) != 0 {
		t.Fatalf("claim with both tenants' rooms full: %d jobs", len(got))
	}
}

// lineOrder commits three events of one incident and one of another,
// through the handles in turn, and checks that the incident's deliveries
// to one endpoint are claimed one at a time in sequence order, whatever
// handle claims: a retried first delivery holds the second back until it
// succeeds, a failed one lets it go, and racing claims take each line's
// first only.
func lineOrder(t *testing.T, handles []Stores) {
	ctx := context.Background()
	h := func(i int) Stores { return handles[i%len(handles)] }
	e := newEndpoint(t, tenantA, "*")
	e.Failures, e.PausedUntil = 0, time.Time{}
	must(t, h(0).WebhookStore().CreateEndpoint(ctx, e))
	inc := create(t, h(0).IncidentStore(), newIncident(t, tenantA, base))
	for i, typ := range []string{incident.TypeNoteAdded, incident.TypeCancelled} {
		_, err := h(i+1).IncidentStore().UpdateIncident(ctx, tenantA, inc.ID, func(cur *incident.Incident) (incident.Effects, error) {
			cur.Sequence++
			return incident.Effects{Events: []outbox.Event{eventFor(t, typ, cur)}}, nil
		})
		must(t, err)
	}
	other := create(t, h(1).IncidentStore(), newIncident(t, tenantA, base))
	if n, err := h(1).WebhookQueue().FanOut(ctx, 10, planAll(t)); err != nil || n != 4 {
		t.Fatalf("fan-out took %d events (%v), want 4", n, err)
	}
	seq := func(j webhook.Job) string {
		return fmt.Sprintf("%s#%d", map[string]string{inc.ID: "inc", other.ID: "other"}[j.Event.SubjectID], j.Event.Sequence)
	}
	claimed := func(q webhook.Queue, owner string, now time.Time) []string {
		t.Helper()
		var got []string
		for _, j := range claim(t, q, claimAll(owner, now, now.Add(time.Minute))) {
			got = append(got, seq(j))
		}
		slices.Sort(got)
		return got
	}
	want := func(what string, got []string, want ...string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Fatalf("%s: claimed %v, want %v", what, got, want)
		}
	}
	// Racing claims through every handle take each line's first, once.
	now := base.Add(time.Hour)
	var mu sync.Mutex
	var got []string
	var first webhook.Job
	var firstOwner int
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			jobs, err := h(i).WebhookQueue().ClaimDeliveries(ctx, claimAll(fmt.Sprint("w", i), now, now.Add(time.Minute)))
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, j := range jobs {
				got = append(got, seq(j))
				if j.Event.SubjectID == inc.ID {
					first, firstOwner = j, i
				}
			}
		})
	}
	wg.Wait()
	slices.Sort(got)
	want("racing claims", got, "inc#1", "other#1")
	// The first attempt fails: a retry in 5 s.
	must(t, h(firstOwner).WebhookQueue().FinishAttempt(ctx, fmt.Sprint("w", firstOwner), first.Delivery.ID, func(d *webhook.Delivery, _ *webhook.Endpoint) error {
		d.Attempts, d.NextAttemptAt = 1, clock.At(now.Add(5*time.Second))
		return nil
	}))
	// The first is pending again, not due: the second waits behind it.
	want("while the first waits for its retry", claimed(h(1).WebhookQueue(), "a", now.Add(time.Second)))
	want("when the retry is due", claimed(h(0).WebhookQueue(), "a", now.Add(5*time.Second)), "inc#1")
	want("while the retry is in flight", claimed(h(1).WebhookQueue(), "b", now.Add(6*time.Second)))
	finish(t, h(1).WebhookQueue(), "a", first.Delivery.ID, webhook.Succeeded)
	jobs := claim(t, h(1).WebhookQueue(), claimAll("b", now.Add(7*time.Second), now.Add(time.Minute)))
	if len(jobs) != 1 || seq(jobs[0]) != "inc#2" {
		t.Fatalf("after the first succeeded: %d jobs, want inc#2", len(jobs))
	}
	// A delivery that failed for good lets the next go.
	finish(t, h(0).WebhookQueue(), "b", jobs[0].Delivery.ID, webhook.Failed)
	jobs = claim(t, h(0).WebhookQueue(), claimAll("c", now.Add(8*time.Second), now.Add(9*time.Second)))
	if len(jobs) != 1 || seq(jobs[0]) != "inc#3" {
		t.Fatalf("after the second failed: %d jobs, want inc#3", len(jobs))
	}
	// A lease that expired (its worker died) is taken over, and still
	// nothing jumps the line.
	want("while inc#3 is leased", claimed(h(1).WebhookQueue(), "d", now.Add(8*time.Second)))
	want("after its lease expired", claimed(h(1).WebhookQueue(), "d", now.Add(9*time.Second)), "inc#3")
	// A redelivery of the first event, inserted while inc#3 is in flight,
	// waits for it, then goes: its line has one attempt at a time.
	re := first.Delivery.Clone()
	re.ID, re.Status, re.Attempts, re.NextAttemptAt = fixtureID(t, "whd"), webhook.Pending, 0, clock.At(now)
	must(t, h(0).WebhookStore().InsertDelivery(ctx, re))
	want("a redelivery while inc#3 is in flight", claimed(h(0).WebhookQueue(), "e", now.Add(10*time.Second)))
	finish(t, h(1).WebhookQueue(), "d", jobs[0].Delivery.ID, webhook.Succeeded)
	want("after inc#3 succeeded", claimed(h(0).WebhookQueue(), "e", now.Add(10*time.Second)), "inc#1")
}

// breaker pauses an endpoint and checks that its deliveries wait out the
// pause, then go one at a time (a probe) until an attempt succeeds and
// closes the breaker, through either handle; and that FinishAttempt
// stores the breaker's state for every handle.
func breaker(t *testing.T, handles []Stores) {
	ctx := context.Background()
	st, q0, q1 := handles[0].WebhookStore(), handles[0].WebhookQueue(), handles[len(handles)-1].WebhookQueue()
	e := newEndpoint(t, tenantA, "*")
	e.Failures, e.PausedUntil = 0, time.Time{}
	must(t, st.CreateEndpoint(ctx, e))
	pings(t, st, e, 3)
	caps := func(owner string, now time.Time) webhook.Claim {
		return webhook.Claim{Owner: owner, Now: now, Until: now.Add(time.Minute), Limit: 10, PerEndpoint: 4, ProbeAfter: 5}
	}
	first := claim(t, q0, caps("w1", base))
	if len(first) != 3 {
		t.Fatalf("%d jobs, want 3", len(first))
	}
	// Five failures in a row pause the endpoint for 10 s.
	paused := base.Add(10 * time.Second)
	for i, j := range first {
		must(t, q0.FinishAttempt(ctx, "w1", j.Delivery.ID, func(d *webhook.Delivery, e *webhook.Endpoint) error {
			d.Attempts, d.NextAttemptAt = 1, clock.At(base.Add(time.Second))
			e.Failures += 2
			if i == len(first)-1 {
				e.PausedUntil = paused
			}
			return nil
		}))
	}
	if got, err := handles[len(handles)-1].WebhookStore().GetEndpoint(ctx, tenantA, e.ID); err != nil || got.Failures != 6 || !got.PausedUntil.Equal(paused) {
		t.Fatalf("breaker state after the attempts: %+v %v", got, err)
	}
	if jobs := claim(t, q1, caps("w2", paused.Add(-time.Millisecond))); len(jobs) != 0 {
		t.Fatalf("a paused endpoint gave %d jobs", len(jobs))
	}
	// The pause over, one probe at a time.
	probe := claim(t, q1, caps("w2", paused))
	if len(probe) != 1 {
		t.Fatalf("after the pause: %d jobs, want 1 probe", len(probe))
	}
	if jobs := claim(t, q0, caps("w3", paused)); len(jobs) != 0 {
		t.Fatalf("while the probe is in flight: %d jobs", len(jobs))
	}
	// The probe succeeds: the breaker closes and the rest go at once.
	must(t, q1.FinishAttempt(ctx, "w2", probe[0].Delivery.ID, func(d *webhook.Delivery, e *webhook.Endpoint) error {
		d.Status, d.NextAttemptAt = webhook.Succeeded, clock.Time{}
		e.Failures, e.PausedUntil = 0, time.Time{}
		return nil
	}))
	if jobs := claim(t, q0, caps("w3", paused)); len(jobs) != 2 {
		t.Fatalf("after a successful probe: %d jobs, want 2", len(jobs))
	}
}

// resumeSkipped fans out an incident's events while its endpoint is
// disabled, through one handle, and checks that they are skipped and never
// claimed; that a change that leaves the endpoint disabled, or one of an
// endpoint already enabled, resumes nothing; and that enabling it through
// the other handle makes the skipped deliveries created since the window's
// start pending, due at once, claimed in sequence order, while older ones
// stay skipped.
func resumeSkipped(t *testing.T, handles []Stores) {
	ctx := context.Background()
	h0, h1 := handles[0], handles[len(handles)-1]
	e := newEndpoint(t, tenantA, "*")
	e.Status, e.Failures, e.PausedUntil = webhook.Disabled, 0, time.Time{}
	must(t, h0.WebhookStore().CreateEndpoint(ctx, e))
	// An old incident's event, then a recent one's three.
	create(t, h0.IncidentStore(), newIncident(t, tenantA, base.Add(-5*time.Hour)))
	inc := create(t, h0.IncidentStore(), newIncident(t, tenantA, base))
	for _, typ := range []string{incident.TypeNoteAdded, incident.TypeCancelled} {
		_, err := h0.IncidentStore().UpdateIncident(ctx, tenantA, inc.ID, func(cur *incident.Incident) (incident.Effects, error) {
			cur.Sequence++
			cur.UpdatedAt = clock.At(cur.UpdatedAt.Add(time.Minute))
			return incident.Effects{Events: []outbox.Event{eventFor(t, typ, cur)}}, nil
		})
		must(t, err)
	}
	if n, err := h0.WebhookQueue().FanOut(ctx, 10, planAll(t)); err != nil || n != 4 {
		t.Fatalf("fan-out took %d events (%v), want 4", n, err)
	}
	later := base.Add(time.Hour)
	skipped := func(st webhook.Store, want int) {
		t.Helper()
		if _, n, err := st.ListDeliveries(ctx, tenantA, e.ID, webhook.Skipped, 0, 10); err != nil || n != want {
			t.Fatalf("%d skipped deliveries (%v), want %d", n, err, want)
		}
	}
	skipped(h1.WebhookStore(), 4)
	if jobs := claim(t, h1.WebhookQueue(), claimAll("w", later, later.Add(time.Minute))); len(jobs) != 0 {
		t.Fatalf("claimed %d skipped deliveries", len(jobs))
	}
	since := base.Add(-time.Hour) // the old incident's event is out of the window
	keep := func(x *webhook.Endpoint) error { x.Description = ptr("still off"); return nil }
	if _, err := h1.WebhookStore().ResumeEndpoint(ctx, tenantA, e.ID, since, later, keep); err != nil {
		t.Fatal(err)
	}
	skipped(h0.WebhookStore(), 4)
	_, err := h1.WebhookStore().ResumeEndpoint(ctx, tenantB, e.ID, since, later, func(x *webhook.Endpoint) error { x.Status = webhook.Enabled; return nil })
	wantKind(t, err, setyerr.NotFound)
	on, err := h1.WebhookStore().ResumeEndpoint(ctx, tenantA, e.ID, since, later, func(x *webhook.Endpoint) error { x.Status = webhook.Enabled; return nil })
	if err != nil || on.Status != webhook.Enabled || *on.Description != "still off" {
		t.Fatalf("resumed endpoint %+v %v", on, err)
	}
	skipped(h0.WebhookStore(), 1)
	pendingNow, n, err := h0.WebhookStore().ListDeliveries(ctx, tenantA, e.ID, webhook.Pending, 0, 10)
	must(t, err)
	for _, d := range pendingNow {
		if !d.NextAttemptAt.Equal(later) || d.Attempts != 0 {
			t.Fatalf("resumed delivery %+v, want due at %v", d, later)
		}
	}
	if n != 3 {
		t.Fatalf("%d pending after resuming, want 3", n)
	}
	// Resuming an enabled endpoint again requeues nothing more.
	if _, err := h0.WebhookStore().ResumeEndpoint(ctx, tenantA, e.ID, base.Add(-24*time.Hour), later, func(*webhook.Endpoint) error { return nil }); err != nil {
		t.Fatal(err)
	}
	skipped(h1.WebhookStore(), 1)
	// The resumed line goes in sequence order.
	for want := int64(1); want <= 3; want++ {
		jobs := claim(t, handles[int(want)%len(handles)].WebhookQueue(), claimAll("w", later, later.Add(time.Minute)))
		if len(jobs) != 1 || jobs[0].Event.SubjectID != inc.ID || jobs[0].Event.Sequence != want {
			t.Fatalf("claim %d: %d jobs", want, len(jobs))
		}
		finish(t, handles[int(want)%len(handles)].WebhookQueue(), "w", jobs[0].Delivery.ID, webhook.Succeeded)
	}
}

// sameSecretKey asks for the webhook secret key at once, through the
// handles in turn, and again after, and checks that every answer is the
// same key of at least 32 bytes: secrets sealed by one instance open on
// every other.
func sameSecretKey(t *testing.T, handles []Stores) {
	ctx := context.Background()
	keys := make([][]byte, 2*len(handles)+1)
	var wg sync.WaitGroup
	for i := range len(keys) - 1 {
		st := handles[i%len(handles)].WebhookStore()
		wg.Go(func() {
			key, err := st.SecretKey(ctx)
			if err != nil {
				t.Error(err)
			}
			keys[i] = key
		})
	}
	wg.Wait()
	last, err := handles[len(handles)-1].WebhookStore().SecretKey(ctx)
	must(t, err)
	keys[len(keys)-1] = last
	code, err := handles[0].AccessStore().CodeKey(ctx)
	must(t, err)
	for _, key := range keys {
		if len(key) < 32 || string(key) != string(keys[0]) {
			t.Fatalf("keys %x", keys)
		}
	}
	if string(code) == string(keys[0]) {
		t.Fatal("the webhook secret key is the access code key")
	}
}

// updateEndpointsPages walks every tenant's endpoints a page at a time, in
// id order, changing some, and checks that exactly those were stored, and
// that an error from change stores nothing.
func updateEndpointsPages(t *testing.T, handles []Stores) {
	ctx := context.Background()
	st, q := handles[0].WebhookStore(), handles[0].WebhookQueue()
	var ids []string
	for _, tenant := range []auth.Tenant{tenantA, tenantB, tenantATest, tenantA, tenantB} {
		e := newEndpoint(t, tenant, "*")
		must(t, st.CreateEndpoint(ctx, e))
		ids = append(ids, e.ID)
	}
	slices.Sort(ids)
	var seen []string
	for after := ""; ; {
		last, err := q.UpdateEndpoints(ctx, after, 2, func(e *webhook.Endpoint) (bool, error) {
			seen = append(seen, e.ID)
			if len(seen)%2 == 1 {
				e.Secret, e.PreviousSecret = "sealed "+e.ID, ""
				e.OrgID = "org_moved" // ignored: an endpoint keeps its tenant
				return true, nil
			}
			e.Secret = "not stored"
			return false, nil
		})
		must(t, err)
		if last == "" {
			break
		}
		after = last
	}
	if !slices.Equal(seen, ids) {
		t.Fatalf("visited %v, want %v", seen, ids)
	}
	find := func(id string) *webhook.Endpoint {
		t.Helper()
		for _, tenant := range []auth.Tenant{tenantA, tenantB, tenantATest} {
			if e, err := st.GetEndpoint(ctx, tenant, id); err == nil {
				return e
			}
		}
		t.Fatalf("endpoint %s moved out of its tenant", id)
		return nil
	}
	for i, id := range ids {
		if got, want := find(id), map[bool]string{true: "sealed " + id, false: "whsec_c2VjcmV0"}[i%2 == 0]; got.Secret != want {
			t.Fatalf("endpoint %d: secret %q, want %q", i, got.Secret, want)
		}
	}
	boom := errors.New("boom")
	if _, err := q.UpdateEndpoints(ctx, "", 10, func(e *webhook.Endpoint) (bool, error) {
		if e.ID == ids[2] {
			return false, boom
		}
		e.Secret = "partial"
		return true, nil
	}); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the change's", err)
	}
	for _, id := range ids {
		if find(id).Secret == "partial" {
			t.Fatal("a failed page stored a change")
		}
	}
}

// pendingDeliveries counts each endpoint's pending deliveries across
// tenants, 0 for an endpoint with none, and moves with an attempt; and
// PendingCounts counts a tenant's own endpoints only.
func pendingDeliveries(t *testing.T, handles []Stores) {
	ctx := context.Background()
	st, q := handles[0].WebhookStore(), handles[0].WebhookQueue()
	a, b, idle := newEndpoint(t, tenantA, "*"), newEndpoint(t, tenantB, "*"), newEndpoint(t, tenantATest, "*")
	for _, e := range []*webhook.Endpoint{a, b, idle} {
		must(t, st.CreateEndpoint(ctx, e))
	}
	pings(t, st, a, 3)
	pings(t, st, b, 2)
	jobs := claim(t, q, webhook.Claim{Owner: "w1", Now: base, Until: base.Add(time.Minute), Limit: 1, PerEndpoint: 1})
	if len(jobs) != 1 {
		t.Fatalf("claimed %d", len(jobs))
	}
	finish(t, q, "w1", jobs[0].Delivery.ID, webhook.Succeeded)
	done := jobs[0].Endpoint.ID
	got, err := handles[len(handles)-1].WebhookQueue().PendingDeliveries(ctx)
	must(t, err)
	want := map[string]int{a.ID: 3, b.ID: 2, idle.ID: 0}
	want[done]--
	if !maps.Equal(got, want) {
		t.Fatalf("pending %v, want %v", got, want)
	}
	// Each tenant counts its own endpoints only: another tenant's id, or
	// one that does not exist, is left out as if it were not asked for.
	all := []string{a.ID, b.ID, idle.ID, "we_0000000000000000"}
	for _, c := range []struct {
		tenant auth.Tenant
		want   map[string]int
	}{
		{tenantA, map[string]int{a.ID: want[a.ID]}},
		{tenantB, map[string]int{b.ID: want[b.ID]}},
		{tenantATest, map[string]int{idle.ID: 0}},
	} {
		got, err := handles[len(handles)-1].WebhookStore().PendingCounts(ctx, c.tenant, all)
		must(t, err)
		if !maps.Equal(got, c.want) {
			t.Fatalf("PendingCounts of %v = %v, want %v", c.tenant, got, c.want)
		}
	}
	none, err := st.PendingCounts(ctx, tenantA, nil)
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("PendingCounts of no ids = %v", none)
	}
}

package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
	"github.com/sety-io/sety/webhook"
)

// TestRetention checks the purge of the delivery log and the outbox
// (webhook.Queue.PurgeDeliveries, PurgeEvents): finished deliveries older
// than the cut-off go, skipped ones only past their own cut-off, pending
// ones never; published events go once no delivery refers to them,
// unpublished ones and the newest never; the log resumes past a purged
// position; and batches are bounded, a full one meaning there may be more.
func TestRetention(t *testing.T, newStores NewStores, f Features) {
	newStores = seeded(newStores)
	t.Run("Purge", func(t *testing.T) { t.Parallel(); purge(t, newStores(t)) })
	t.Run("Batches", func(t *testing.T) { t.Parallel(); purgeBatches(t, newStores(t)) })
	t.Run("KeepsNewestEvent", func(t *testing.T) { t.Parallel(); purgeKeepsNewest(t, newStores(t)) })
}

// retained is a test's fixture set: the cut-offs, and helpers that add a
// delivery with its own event.
type retained struct {
	t      *testing.T
	st     webhook.Store
	now    time.Time
	before time.Time // finished deliveries and events: 24 h
	skip   time.Time // skipped deliveries: 72 h
}

func newRetained(t *testing.T, stores Stores) *retained {
	now := base.Add(100 * 24 * time.Hour)
	return &retained{t: t, st: stores.WebhookStore(), now: now, before: now.Add(-24 * time.Hour), skip: now.Add(-72 * time.Hour)}
}

// add stores an event created at at, published, with one delivery of
// status to e, created at at too.
func (r *retained) add(e *webhook.Endpoint, status string, at time.Time) *webhook.Delivery {
	r.t.Helper()
	evID := fixtureID(r.t, "evt")
	ev := outbox.Event{ID: evID, OrgID: e.OrgID, Environment: string(e.Environment), Type: "ping", SubjectID: evID, Sequence: 1,
		Data: []byte(`{"padding":"a snapshot"}`), CreatedAt: at}
	d := &webhook.Delivery{ID: fixtureID(r.t, "whd"), EndpointID: e.ID, EventID: evID, EventType: "ping", Status: status,
		CreatedAt: clock.At(at), OrgID: e.OrgID, Environment: e.Environment}
	if status == webhook.Pending {
		d.NextAttemptAt = clock.At(r.now.Add(time.Hour))
	}
	must(r.t, r.st.AddDelivery(context.Background(), ev, d))
	return d
}

// exists reports whether delivery d is still stored.
func (r *retained) exists(d *webhook.Delivery) bool {
	r.t.Helper()
	_, err := r.st.GetDelivery(context.Background(), d.Tenant(), d.EndpointID, d.ID)
	if err != nil && setyerr.KindOf(err) != setyerr.NotFound {
		r.t.Fatal(err)
	}
	return err == nil
}

// eventIDs returns the ids of every event in the log, in position order,
// and their positions by id.
func eventIDs(t *testing.T, stores Stores) ([]string, map[string]int64) {
	t.Helper()
	events, _, err := stores.EventLog().EventsAfter(context.Background(), 0, outbox.Filter{}, 1000)
	must(t, err)
	var out []string
	at := map[string]int64{}
	for _, ev := range events {
		out = append(out, ev.ID)
		at[ev.ID] = ev.Position
	}
	return out, at
}

func purge(t *testing.T, stores Stores) {
	ctx := context.Background()
	r := newRetained(t, stores)
	q := stores.WebhookQueue()
	e := newEndpoint(t, tenantA, "*")
	other := newEndpoint(t, tenantB, "*")
	must(t, r.st.CreateEndpoint(ctx, e))
	must(t, r.st.CreateEndpoint(ctx, other))
	old, ancient, recent := r.now.Add(-48*time.Hour), r.now.Add(-96*time.Hour), r.now.Add(-time.Hour)

	// An old event fanned out to nobody goes; one committed long ago and
	// never fanned out stays.
	fanned := newIncident(t, tenantB, old)
	create(t, stores.IncidentStore(), fanned)
	if n, err := q.FanOut(ctx, 1, func(outbox.Event, []*webhook.Endpoint) []*webhook.Delivery { return nil }); err != nil || n != 1 {
		t.Fatalf("FanOut: %d, %v", n, err)
	}
	fannedEvent := positionsID(t, stores, fanned.ID)
	inc := newIncident(t, tenantA, ancient)
	create(t, stores.IncidentStore(), inc)
	unpublished := pending(t, stores, 1)[0]

	goes := []*webhook.Delivery{
		r.add(e, webhook.Succeeded, old),
		r.add(e, webhook.Failed, old),
		r.add(e, webhook.Skipped, ancient), // past the 72 h of re-enabling too
		r.add(other, webhook.Succeeded, old),
	}
	stays := []*webhook.Delivery{
		r.add(e, webhook.Pending, ancient),  // never, however old
		r.add(e, webhook.Skipped, old),      // re-enabling may still send it
		r.add(e, webhook.Succeeded, recent), // inside the retention
		r.add(other, webhook.Failed, recent),
	}
	// An old delivery redelivered recently: the old one goes, its event
	// stays for the new one.
	redelivered := r.add(e, webhook.Succeeded, old)
	again := redelivered.Clone()
	again.ID, again.Status, again.CreatedAt, again.NextAttemptAt = fixtureID(t, "whd"), webhook.Succeeded, clock.At(recent), clock.Time{}
	must(t, r.st.InsertDelivery(ctx, again))
	goes, stays = append(goes, redelivered), append(stays, again)
	// The newest event is a recent one, so the newest-event rule keeps
	// nothing here that would otherwise go.
	newest := r.add(e, webhook.Succeeded, recent)
	stays = append(stays, newest)

	before, positions := eventIDs(t, stores)

	n, err := q.PurgeDeliveries(ctx, r.before, r.skip, 100)
	must(t, err)
	if n != len(goes) {
		t.Fatalf("PurgeDeliveries deleted %d, want %d", n, len(goes))
	}
	for _, d := range goes {
		if r.exists(d) {
			t.Errorf("delivery %s (%s, created %v) was kept", d.ID, d.Status, d.CreatedAt)
		}
	}
	for _, d := range stays {
		if !r.exists(d) {
			t.Errorf("delivery %s (%s, created %v) was purged", d.ID, d.Status, d.CreatedAt)
		}
	}
	if n, _ := q.PurgeDeliveries(ctx, r.before, r.skip, 100); n != 0 {
		t.Fatalf("second PurgeDeliveries deleted %d", n)
	}

	n, err = q.PurgeEvents(ctx, r.before, 100)
	must(t, err)
	// The events of the deliveries that went, but the redelivered one's,
	// and the one fanned out to nobody.
	wantGone := []string{fannedEvent}
	for _, d := range goes {
		if d != redelivered {
			wantGone = append(wantGone, d.EventID)
		}
	}
	if n != len(wantGone) {
		t.Fatalf("PurgeEvents deleted %d, want %d", n, len(wantGone))
	}
	after, _ := eventIDs(t, stores)
	var want []string
	for _, id := range before {
		if !slices.Contains(wantGone, id) {
			want = append(want, id)
		}
	}
	sameJSON(t, "events after the purge", after, want)
	if !slices.Contains(after, unpublished.ID) || !slices.Contains(after, redelivered.EventID) {
		t.Fatalf("an unpublished or a referenced event was purged: %v", after)
	}
	pending(t, stores, 1)

	// The kept redelivery can be redelivered again: its event is there.
	re := again.Clone()
	re.ID, re.Status, re.NextAttemptAt = fixtureID(t, "whd"), webhook.Pending, clock.At(r.now)
	must(t, r.st.InsertDelivery(ctx, re))

	// A reader resuming from a purged position gets the events after it.
	gone := positions[wantGone[0]]
	events, next, err := stores.EventLog().EventsAfter(ctx, gone, outbox.Filter{}, 1000)
	must(t, err)
	var got []string
	for _, ev := range events {
		got = append(got, ev.ID)
	}
	var wantAfter []string
	for _, id := range want {
		if positions[id] > gone {
			wantAfter = append(wantAfter, id)
		}
	}
	sameJSON(t, "events after a purged position", got, wantAfter)
	if head, err := stores.EventLog().Head(ctx); err != nil || next != head {
		t.Fatalf("next %d, head %d (%v)", next, head, err)
	}
}

// positionsID returns the id of the first event of subject.
func positionsID(t *testing.T, stores Stores, subject string) string {
	t.Helper()
	events, _, err := stores.EventLog().EventsAfter(context.Background(), 0, outbox.Filter{}, 1000)
	must(t, err)
	for _, ev := range events {
		if ev.SubjectID == subject {
			return ev.ID
		}
	}
	t.Fatalf("no event of %s", subject)
	return ""
}

func purgeBatches(t *testing.T, stores Stores) {
	ctx := context.Background()
	r := newRetained(t, stores)
	q := stores.WebhookQueue()
	e := newEndpoint(t, tenantA, "*")
	must(t, r.st.CreateEndpoint(ctx, e))
	for range 5 {
		r.add(e, webhook.Succeeded, r.now.Add(-48*time.Hour))
	}
	r.add(e, webhook.Succeeded, r.now) // the newest event, kept
	for _, purge := range []func(limit int) (int, error){
		func(limit int) (int, error) { return q.PurgeDeliveries(ctx, r.before, r.skip, limit) },
		func(limit int) (int, error) { return q.PurgeEvents(ctx, r.before, limit) },
	} {
		var got []int
		for {
			n, err := purge(2)
			must(t, err)
			got = append(got, n)
			if n < 2 {
				break
			}
		}
		sameJSON(t, "batches", got, []int{2, 2, 1})
	}
	if _, total, _ := r.st.ListDeliveries(ctx, tenantA, e.ID, "", 0, 10); total != 1 {
		t.Fatalf("%d deliveries left, want 1", total)
	}
	if ids, _ := eventIDs(t, stores); len(ids) != 1 {
		t.Fatalf("events left: %v", ids)
	}
}

// purgeKeepsNewest: the newest event stays whatever its age, so the log's
// head never moves back and a reader's position stays ahead of nothing.
func purgeKeepsNewest(t *testing.T, stores Stores) {
	ctx := context.Background()
	r := newRetained(t, stores)
	e := newEndpoint(t, tenantA, "*")
	must(t, r.st.CreateEndpoint(ctx, e))
	r.add(e, webhook.Succeeded, r.now.Add(-48*time.Hour))
	r.add(e, webhook.Succeeded, r.now.Add(-47*time.Hour))
	head, err := stores.EventLog().Head(ctx)
	must(t, err)
	q := stores.WebhookQueue()
	if n, err := q.PurgeDeliveries(ctx, r.before, r.skip, 100); err != nil || n != 2 {
		t.Fatalf("PurgeDeliveries: %d, %v", n, err)
	}
	if n, err := q.PurgeEvents(ctx, r.before, 100); err != nil || n != 1 {
		t.Fatalf("PurgeEvents: %d, %v; want 1, the newest kept", n, err)
	}
	if got, err := stores.EventLog().Head(ctx); err != nil || got != head {
		t.Fatalf("head %d (%v), want %d", got, err, head)
	}
}

package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
)

// TestOutbox checks that events round-trip through the outbox in commit
// order and that a subject's sequence numbers never repeat.
func TestOutbox(t *testing.T, newStores NewStores, f Features) {
	newStores = seeded(newStores)
	ctx := context.Background()

	t.Run("EventsRoundTripOldestFirst", func(t *testing.T) {
		t.Parallel()
		stores := newStores(t)
		st := stores.IncidentStore()
		var want []outbox.Event
		for i := range 3 {
			inc := newIncident(t, tenantA, base.Add(time.Duration(i)*time.Second))
			ev := eventFor(t, incident.TypeCreated, inc)
			_, _, err := st.CreateIncident(ctx, inc, withEvents(ev))
			must(t, err)
			want = append(want, ev)
		}
		got, err := stores.OutboxReader().PendingEvents(ctx, 10)
		must(t, err)
		sameJSON(t, "events", normalize(got), normalize(want))
		// A subject's sequence numbers never repeat.
		dup := newIncident(t, tenantA, base)
		ev := eventFor(t, incident.TypeCreated, dup)
		ev.SubjectID, ev.Sequence = want[0].SubjectID, want[0].Sequence
		if _, _, err := st.CreateIncident(ctx, dup, withEvents(ev)); err == nil {
			t.Fatal("a repeated subject sequence was stored")
		}
		if _, err := st.GetIncident(ctx, tenantA, dup.ID); !setyerr.Is(err, setyerr.NotFound) {
			t.Fatal("a failed create left its incident behind")
		}
		// Nor does an event id.
		ev = eventFor(t, incident.TypeCreated, dup)
		ev.ID = want[1].ID
		_, _, err = st.CreateIncident(ctx, dup, withEvents(ev))
		wantKind(t, err, setyerr.Conflict)
		two, err := stores.OutboxReader().PendingEvents(ctx, 2)
		must(t, err)
		if len(two) != 2 || two[0].ID != want[0].ID {
			t.Fatalf("limit 2 gave %d events starting %v", len(two), two)
		}
	})

	t.Run("LogInCommitOrder", func(t *testing.T) {
		t.Parallel()
		stores := newStores(t)
		testLog(t, []Stores{stores})
	})
	t.Run("SharedLogInCommitOrder", shared(newStores, f, testLog))
	t.Run("BriefsAreTheSnapshots", func(t *testing.T) { testBriefs(t, newStores) })
}

// testLog commits events of two tenants and environments through the
// handles (concurrently, too) and reads them back through the log of each
// handle: in commit order with increasing positions, filtered, resumable
// after any position without a gap or a repeat.
func testLog(t *testing.T, handles []Stores) {
	ctx := context.Background()
	log := handles[0].EventLog()
	if head, err := log.Head(ctx); err != nil || head != 0 {
		t.Fatalf("empty log: head %d, %v", head, err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	committed := map[string]outbox.Event{}
	for i := range 40 {
		tenant := []auth.Tenant{tenantA, tenantATest, tenantB}[i%3]
		st := handles[i%len(handles)].IncidentStore()
		wg.Go(func() {
			inc := newIncident(t, tenant, base.Add(time.Duration(i)*time.Second))
			ev := eventFor(t, incident.TypeCreated, inc)
			if _, _, err := st.CreateIncident(ctx, inc, withEvents(ev)); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			committed[ev.ID] = ev
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, h := range handles {
		all, next, err := h.EventLog().EventsAfter(ctx, 0, outbox.Filter{}, 1000)
		must(t, err)
		if len(all) != len(committed) {
			t.Fatalf("log holds %d events, %d were committed", len(all), len(committed))
		}
		for i, ev := range all {
			if i > 0 && ev.Position <= all[i-1].Position {
				t.Fatalf("positions not increasing: %d after %d", ev.Position, all[i-1].Position)
			}
			if want, ok := committed[ev.ID]; !ok || string(ev.Data) != string(want.Data) || ev.SubjectID != want.SubjectID {
				t.Fatalf("event %s does not round-trip", ev.ID)
			}
		}
		if head, _ := h.EventLog().Head(ctx); head != all[len(all)-1].Position || next != head {
			t.Fatalf("head %d, next %d, want the last position %d", head, next, all[len(all)-1].Position)
		}
		// Envelopes: the same events, with the same next, without data.
		for _, f := range []outbox.Filter{{Envelopes: true}, {Envelopes: true, OrgID: tenantB.OrgID, Environment: string(auth.Live), Types: []string{incident.TypeCreated}}} {
			withData := f
			withData.Envelopes = false
			want, wantNext, err := h.EventLog().EventsAfter(ctx, 0, withData, 1000)
			must(t, err)
			got, gotNext, err := h.EventLog().EventsAfter(ctx, 0, f, 1000)
			must(t, err)
			for i := range want {
				want[i].Data = nil
			}
			if len(want) == 0 || gotNext != wantNext {
				t.Fatalf("envelopes %+v: next %d, want %d (of %d events)", f, gotNext, wantNext, len(want))
			}
			sameJSON(t, "envelopes", got, want)
			// Bare: the same again, but a store may leave subjects and
			// sequences out.
			f.Bare = true
			bare, bareNext, err := h.EventLog().EventsAfter(ctx, 0, f, 1000)
			must(t, err)
			for i := range bare {
				if i < len(want) && bare[i].SubjectID == "" && bare[i].Sequence == 0 {
					bare[i].SubjectID, bare[i].Sequence = want[i].SubjectID, want[i].Sequence
				}
			}
			if bareNext != wantNext {
				t.Fatalf("bare %+v: next %d, want %d", f, bareNext, wantNext)
			}
			sameJSON(t, "bare envelopes", bare, want)
		}
		// Through: what is at or before a position read already, with
		// data, and next at it; an empty read past the head stops there.
		mid := all[len(all)/2].Position
		upTo, upToNext, err := h.EventLog().EventsAfter(ctx, all[0].Position, outbox.Filter{Through: mid}, 1000)
		must(t, err)
		if upToNext != mid || len(upTo) != len(all)/2 {
			t.Fatalf("through %d: %d events, next %d, want %d events, next %d", mid, len(upTo), upToNext, len(all)/2, mid)
		}
		sameJSON(t, "through", upTo, all[1:len(all)/2+1])
		if none, next, err := h.EventLog().EventsAfter(ctx, head(t, h), outbox.Filter{Through: head(t, h) + 5}, 10); err != nil || len(none) != 0 || next != head(t, h) {
			t.Fatalf("through past the head: %d events, next %d, %v; want none, next at the head %d", len(none), next, err, head(t, h))
		}
		// Positions: only the events at those, with data, in log order;
		// next as without them.
		picked := []outbox.Event{all[1], all[len(all)/2], all[len(all)-1]}
		at := []int64{picked[0].Position, picked[1].Position, picked[2].Position, head(t, h) + 1}
		got, gotNext, err := h.EventLog().EventsAfter(ctx, all[0].Position, outbox.Filter{Positions: at, Through: mid}, 1000)
		must(t, err)
		if gotNext != mid {
			t.Fatalf("positions %v through %d: next %d, want %d", at, mid, gotNext, mid)
		}
		sameJSON(t, "positions", got, picked[:2])
		// Resuming in small pages from any position reads the rest, once.
		var paged []string
		for after := int64(0); ; {
			page, next, err := h.EventLog().EventsAfter(ctx, after, outbox.Filter{}, 7)
			must(t, err)
			if len(page) == 0 {
				break
			}
			for _, ev := range page {
				paged = append(paged, ev.ID)
			}
			if next != page[len(page)-1].Position && len(page) == 7 {
				t.Fatalf("a full page's next is %d, want its last position %d", next, page[len(page)-1].Position)
			}
			after = next
		}
		if len(paged) != len(all) || paged[0] != all[0].ID || paged[len(paged)-1] != all[len(all)-1].ID {
			t.Fatalf("paging read %d events, want %d", len(paged), len(all))
		}
		// Filters: one tenant and environment, a type prefix.
		live, _, err := h.EventLog().EventsAfter(ctx, 0, outbox.Filter{OrgID: tenantA.OrgID, Environment: string(auth.Live), TypePrefix: "incident."}, 1000)
		must(t, err)
		for _, ev := range live {
			if ev.OrgID != tenantA.OrgID || ev.Environment != "live" {
				t.Fatalf("filter let through %+v", ev)
			}
		}
		if len(live) != 14 {
			t.Fatalf("tenant A live: %d events, want 14", len(live))
		}
		// Exact types, with the other conditions.
		typed, _, err := h.EventLog().EventsAfter(ctx, 0, outbox.Filter{OrgID: tenantB.OrgID, Types: []string{"incident.cancelled", incident.TypeCreated}}, 1000)
		must(t, err)
		if len(typed) != 13 {
			t.Fatalf("tenant B's created or cancelled events: %d, want 13", len(typed))
		}
		if other, next, _ := h.EventLog().EventsAfter(ctx, 0, outbox.Filter{Types: []string{"incident.cancelled"}}, 1000); len(other) != 0 || next != all[len(all)-1].Position {
			t.Fatalf("a type no event has let through %d events; next %d, want the head", len(other), next)
		}
		// A filter that matches nothing still moves the reader to the head,
		// so what it leaves out is not read again.
		none, next, _ := h.EventLog().EventsAfter(ctx, 0, outbox.Filter{TypePrefix: "access."}, 1000)
		if len(none) != 0 || next != all[len(all)-1].Position {
			t.Fatalf("type prefix let through %d incident events; next %d, want the head", len(none), next)
		}
	}
}

// normalize makes events comparable: Data compared as text.
func normalize(events []outbox.Event) []map[string]any {
	out := make([]map[string]any, len(events))
	for i, ev := range events {
		out[i] = map[string]any{
			"id": ev.ID, "org": ev.OrgID, "env": ev.Environment, "type": ev.Type, "subject": ev.SubjectID,
			"seq": ev.Sequence, "data": string(ev.Data), "at": ev.CreatedAt.UTC(),
		}
	}
	return out
}

// head is h's log head.
func head(t *testing.T, h Stores) int64 {
	t.Helper()
	head, err := h.EventLog().Head(context.Background())
	must(t, err)
	return head
}

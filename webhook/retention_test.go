package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/adapters/sqlite"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/webhook"
)

// eventIDs lists the ids of the events left in the store's log.
func (f *fixture) eventIDs() []string {
	f.t.Helper()
	events, _, err := f.stores.EventLog().EventsAfter(f.ctx, 0, outbox.Filter{}, 10000)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, ev := range events {
		out = append(out, ev.ID)
	}
	return out
}

// statuses lists the statuses of an endpoint's deliveries, newest first.
func (f *fixture) statuses(e *webhook.Endpoint) []string {
	var out []string
	for _, d := range f.deliveries(f.live, e) {
		out = append(out, d.Status)
	}
	return out
}

func TestPurgeFollowsRetention(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) sety.Stores{
		"memory": func(*testing.T) sety.Stores { return memory.New() },
		"sqlite": func(t *testing.T) sety.Stores {
			db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sety.db"), &sqlite.Options{Synchronous: "NORMAL"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, open(t))
			purged := map[string]int{}
			f.s = f.instance(webhook.Config{OnPurge: func(kind string, n int) { purged[kind] += n }}, sety.WithRetention(24*time.Hour))
			ok := newReceiver(t, http.StatusOK)
			down := newReceiver(t, http.StatusBadGateway, http.StatusGone)
			sent, _ := f.endpoint(f.live, ok.URL, "incident.created")
			failing, _ := f.endpoint(f.live, down.URL, "incident.created")
			off := webhook.Disabled
			disabled, _ := f.endpoint(f.live, ok.URL, "incident.created")
			if _, err := f.s.Webhooks.UpdateEndpoint(f.ctx, f.live, disabled.ID, webhook.UpdateEndpointRequest{Status: &off}); err != nil {
				t.Fatal(err)
			}
			f.incident(f.live)
			f.tick(0) // sent: succeeded; failing: pending, retry due in 5 s; disabled: skipped
			created := f.deliveries(f.live, sent)[0].EventID

			// Inside the retention nothing goes.
			f.clk.Advance(23 * time.Hour)
			if n, err := f.s.Webhooks.Purge(f.ctx); err != nil || n != 0 {
				t.Fatalf("purge inside the retention: %d, %v", n, err)
			}
			// Past it the succeeded delivery goes; the pending one stays,
			// and with it the event; the skipped one stays for the 72 h in
			// which re-enabling sends it.
			f.clk.Advance(2 * time.Hour)
			f.incident(f.live) // a newer event, so the old one is not the log's newest
			if _, err := f.s.Webhooks.Purge(f.ctx); err != nil || purged["deliveries"] != 1 {
				t.Fatalf("purge past the retention: %v deleted, %v; want the succeeded delivery", purged, err)
			}
			if got := f.statuses(sent); len(got) != 0 {
				t.Fatalf("succeeded deliveries kept: %v", got)
			}
			if got := f.statuses(failing); len(got) != 1 || got[0] != webhook.Pending {
				t.Fatalf("failing endpoint: %v, want its pending delivery", got)
			}
			if got := f.statuses(disabled); len(got) != 1 || got[0] != webhook.Skipped {
				t.Fatalf("disabled endpoint: %v, want its skipped delivery", got)
			}
			if got := f.eventIDs(); !slices.Contains(got, created) {
				t.Fatalf("events %v: %s, still referenced, was purged", got, created)
			}
			// The retry, and the newer event's first attempt, get a 410: both
			// fail (and the endpoint is disabled). Once failed, they go too
			// past the retention; the skipped ones past 72 h; and every
			// event with the last delivery that carried it.
			f.tick(time.Minute)
			if got := f.statuses(failing); fmt.Sprint(got) != "[failed failed]" {
				t.Fatalf("failing endpoint after the 410: %v", got)
			}
			f.clk.Advance(73 * time.Hour)
			if _, err := f.s.Webhooks.Purge(f.ctx); err != nil {
				t.Fatal(err)
			}
			for _, e := range []*webhook.Endpoint{sent, failing, disabled} {
				if got := f.statuses(e); len(got) != 0 {
					t.Fatalf("endpoint %s keeps %v", e.ID, got)
				}
			}
			// Of the events, only the newest stays: it is the log's head.
			if got := f.eventIDs(); len(got) != 1 {
				t.Fatalf("events left: %v, want the newest", got)
			}
			if purged["deliveries"] != 6 {
				t.Fatalf("OnPurge heard %v, want 6 deliveries", purged)
			}
		})
	}
}

func TestRetentionForever(t *testing.T) {
	f := newFixture(t, memory.New())
	f.s = f.instance(webhook.Config{}, sety.WithRetention(0))
	r := newReceiver(t, http.StatusOK)
	e, _ := f.endpoint(f.live, r.URL, "incident.created")
	f.incident(f.live)
	f.tick(0)
	f.clk.Advance(10 * 365 * 24 * time.Hour)
	f.incident(f.live)
	if n, err := f.s.Webhooks.Purge(f.ctx); err != nil || n != 0 {
		t.Fatalf("purge with retention 0: %d, %v", n, err)
	}
	if got := f.statuses(e); len(got) != 1 {
		t.Fatalf("deliveries %v, want the one kept forever", got)
	}
}

// spyQueue tells of each PurgeEvents, the last step of a purge round.
type spyQueue struct {
	webhook.Queue
	events chan int
}

func (q spyQueue) PurgeEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	n, err := q.Queue.PurgeEvents(ctx, before, limit)
	q.events <- n
	return n, err
}

// The worker purges as soon as it starts: a server restarted more often
// than every PurgeEvery still purges.
func TestRunPurgesAtStart(t *testing.T) {
	store := memory.New()
	f := newFixture(t, store)
	r := newReceiver(t, http.StatusOK)
	e, _ := f.endpoint(f.live, r.URL, "incident.created")
	f.incident(f.live)
	f.tick(0)
	f.clk.Advance(webhook.DefaultRetention + time.Hour)
	f.incident(f.live) // the newest event, kept
	// Delivered now, so the worker's own loops have nothing to do beside
	// the purge: whether they fanned it out before the purge ended was a
	// race of their own.
	f.tick(0)

	spy := spyQueue{Queue: store.WebhookQueue(), events: make(chan int, 1)}
	w := webhook.NewService(store.WebhookStore(), spy, webhook.Config{Now: f.clk.Now, PurgeEvery: time.Hour})
	ctx, stop := context.WithCancel(f.ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	if n := <-spy.events; n == 0 {
		t.Fatal("the first round purged no event")
	}
	stop()
	<-done
	if got := f.statuses(e); len(got) != 1 || got[0] != webhook.Succeeded {
		// The purge took the old delivery and kept the newer one.
		t.Fatalf("after the purge: %v, want only the newer incident's delivery, succeeded", got)
	}
}

package incident_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sety-io/sety/adapters/sqlite"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/ids"
	"github.com/sety-io/sety/incident"
)

// freedMidCreate is a store in which a responder comes on duty, with no
// offer, just before the first create's transaction: as when another
// instance frees one between this create's ranking and its commit, and
// offers it to a queue this incident is not yet in.
type freedMidCreate struct {
	incident.Store
	free func()
	once sync.Once
}

func (f *freedMidCreate) CreateIncident(ctx context.Context, inc *incident.Incident, e incident.Effects) (*incident.Incident, bool, error) {
	f.once.Do(f.free)
	return f.Store.CreateIncident(ctx, inc, e)
}

// freedMidQueuedCreate is freedMidCreate over a QueueingStore.
type freedMidQueuedCreate struct{ *freedMidCreate }

func (f freedMidQueuedCreate) CreateQueued(ctx context.Context, inc *incident.Incident, e incident.Effects, withinM float64) (*incident.Incident, bool, error) {
	f.once.Do(f.free)
	return f.Store.(incident.QueueingStore).CreateQueued(ctx, inc, e, withinM)
}

// countingPool counts the searches of the responder pool.
type countingPool struct {
	incident.ResponderStore
	searches atomic.Int64
}

func (c *countingPool) NearestAvailable(ctx context.Context, tenant auth.Tenant, at geo.Point, limit int, withinM float64) ([]*incident.Responder, error) {
	c.searches.Add(1)
	return c.ResponderStore.NearestAvailable(ctx, tenant, at, limit, withinM)
}

// A responder freed while a create is on its way to the store, too late
// for the create's ranking and too early for the freed responder's offer
// to see the new incident, still gets it: on every adapter, whether the
// store looks at the pool in the create's transaction (QueueingStore) or
// the service looks again after the commit.
func TestResponderFreedMidCreateIsNotMissed(t *testing.T) {
	for _, adapter := range []string{"memory", "sqlite"} {
		for _, queueing := range []bool{true, false} {
			name := adapter + "/service-looks-again"
			if queueing {
				name = adapter + "/store-looks-in-the-transaction"
			}
			t.Run(name, func(t *testing.T) {
				ctx := context.Background()
				st := benchStores(t, adapter)
				id := "rsp_0000000000000001"
				freed := &freedMidCreate{Store: st.IncidentStore(), free: func() {
					if _, err := st.ResponderStore().UpdateResponder(ctx, live, id, func(r *incident.Responder, _ bool) error {
						r.Name, r.Location, r.Status, r.UpdatedAt = "Unit 1", here, incident.Available, clock.At(start)
						return nil
					}); err != nil {
						t.Error(err)
					}
				}}
				var store incident.Store = freed
				if queueing {
					store = freedMidQueuedCreate{freed}
				}
				svc := incident.NewService(store, incident.Config{Now: clock.NewFake(start).Now, NewID: ids.New, Responders: st.ResponderStore()})
				inc, created, err := svc.Create(ctx, live, incident.CreateIncidentRequest{Category: incident.SOS, Location: incident.Location{Coordinates: here}})
				if err != nil || !created {
					t.Fatalf("create: created %v, %v", created, err)
				}
				if inc.Status != incident.Assigned || inc.Responder == nil || inc.Responder.ResponderID != id {
					t.Fatalf("create answered %s, responder %+v: want assigned to %s", inc.Status, inc.Responder, id)
				}
				got, err := svc.Get(ctx, live, inc.ID)
				if err != nil || got.Status != incident.Assigned {
					t.Fatalf("stored: %+v, %v", got, err)
				}
				wantList(t, "timeline", timelineOf(got), "created", "dispatching", "assigned")
			})
		}
	}
}

// With a QueueingStore, a create for a tenant whose last create was
// queued does not search the pool at all when nobody is available (the
// store looks in the insert's transaction); without one it searches twice,
// before and after the commit. A tenant whose last create found a
// responder searches first.
func TestQueuedCreateSearchesThePoolOnlyWhenUseful(t *testing.T) {
	for _, queueing := range []bool{true, false} {
		st := benchStores(t, "sqlite")
		ctx := context.Background()
		pool := &countingPool{ResponderStore: st.ResponderStore()}
		var store incident.Store = st.IncidentStore()
		if !queueing {
			store = struct{ incident.Store }{store} // hides CreateQueued
		}
		svc := incident.NewService(store, incident.Config{Now: clock.NewFake(start).Now, NewID: ids.New, Responders: pool})
		create := func() *incident.Incident {
			t.Helper()
			inc, _, err := svc.Create(ctx, live, incident.CreateIncidentRequest{Category: incident.SOS, Location: incident.Location{Coordinates: here}})
			if err != nil {
				t.Fatal(err)
			}
			return inc
		}
		searches := func(what string, want int64, inc *incident.Incident, status incident.Status) {
			t.Helper()
			if got := pool.searches.Swap(0); got != want || inc.Status != status {
				t.Errorf("queueing %v, %s: %d searches of the pool, %s; want %d, %s", queueing, what, got, inc.Status, want, status)
			}
		}
		for range 3 {
			want := int64(2)
			if queueing {
				want = 0
			}
			searches("nobody on duty", want, create(), incident.Dispatching)
		}
		// Four on duty: three take the queued incidents, one stays free.
		for n := range 4 {
			if _, err := svc.UpsertResponder(ctx, live, fmt.Sprintf("rsp_%016d", n+1), incident.ResponderInput{Name: "Unit", Location: here}); err != nil {
				t.Fatal(err)
			}
		}
		pool.searches.Store(0)
		searches("a responder free", 1, create(), incident.Assigned)
		want := int64(2) // before the commit and after it
		if queueing {
			want = 1 // before the commit, and the store in the transaction
		}
		searches("after a create that found one, nobody free", want, create(), incident.Dispatching)
	}
}

// Two instances on one SQLite file create incidents while responders are
// freed (cancels) through both: whatever the interleaving, no incident is
// left waiting in dispatching while a responder in range is available.
// Both the store's look in the create's transaction and the offer of a
// freed responder must see every commit of the other instance.
func TestNoIncidentWaitsBesideAFreeResponder(t *testing.T) {
	rounds := 60
	if testing.Short() {
		rounds = 20
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sety.db")
	var services []*incident.Service
	for range 2 {
		db, err := sqlite.Open(ctx, path, &sqlite.Options{Synchronous: "NORMAL"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if len(services) == 0 {
			org := &auth.Organization{ID: live.OrgID, Name: "Acme", Plan: auth.Enterprise, Status: auth.Active, CreatedAt: clock.At(start)}
			if err := db.AuthStore().CreateOrganization(ctx, org); err != nil {
				t.Fatal(err)
			}
		}
		services = append(services, incident.NewService(db.IncidentStore(), incident.Config{NewID: ids.New, Responders: db.ResponderStore()}))
	}
	for n := range 3 {
		if _, err := services[n%2].UpsertResponder(ctx, live, fmt.Sprintf("rsp_%016d", n+1), incident.ResponderInput{Name: "Unit", Location: awayKm(float64(n))}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for g := range 6 {
		svc := services[g%2]
		wg.Go(func() {
			for range rounds {
				inc, _, err := svc.Create(ctx, live, incident.CreateIncidentRequest{Category: incident.SOS, Location: incident.Location{Coordinates: here}})
				if err != nil {
					t.Error(err)
					return
				}
				if inc.Status == incident.Assigned {
					// Frees the responder, who is offered the queue.
					if _, err := svc.Cancel(ctx, live, inc.ID, incident.CancelIncidentRequest{Reason: "test"}); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	queued, total, err := services[0].List(ctx, live, incident.Filter{Statuses: []incident.Status{incident.Dispatching}, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	free, _, err := services[1].ListResponders(ctx, live, incident.ResponderFilter{Status: incident.Available, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if total > 0 && len(free) > 0 {
		t.Fatalf("%d incidents wait (the newest %s) beside %d available responders (%s)", total, queued[0].ID, len(free), free[0].ID)
	}
	t.Logf("%d waiting, %d responders available", total, len(free))
}

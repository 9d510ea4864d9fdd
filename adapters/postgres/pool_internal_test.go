package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/ids"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/pgtest"
	"github.com/sety-io/sety/outbox"
)

// lagos is where the pool tests' incidents happen and responders stand.
var lagos = geo.NewPoint(6.5244, 3.3792)

// waiting returns how many backends of pool's database wait for a lock.
func waiting(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
		WHERE wait_event_type = 'Lock' AND datname = current_database()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// untilWaiting returns once n backends wait for a lock, or done is
// closed (reported as false).
func untilWaiting(t *testing.T, pool *pgxpool.Pool, n int, done <-chan struct{}) bool {
	t.Helper()
	for waiting(t, pool) < n {
		select {
		case <-done:
			return false
		default:
		}
	}
	return true
}

// holdKey inserts an incident of the fixture tenant with idempotency key
// key in a transaction left open until the returned function is called,
// which rolls it back: a create with that key waits at its insert, after
// its look at the pool, for as long as the test wants.
func holdKey(t *testing.T, db *DB, key string) (rollBack func()) {
	t.Helper()
	ctx := context.Background()
	now := clock.At(fixtureTime)
	held := &incident.Incident{ID: "inc_heldheldheldheld", IdempotencyKey: &key, Category: incident.SOS, Severity: incident.High,
		Status: incident.Dispatching, Title: "SOS alert", Location: incident.IncidentLocation{Coordinates: lagos},
		CreatedAt: now, UpdatedAt: now, OrgID: fixtureTenant.OrgID, Environment: fixtureTenant.Env, Sequence: 1}
	values, err := sqlstore.IncidentValues(dialect{}, held, nil)
	if err != nil {
		t.Fatal(err)
	}
	inserted, release, ended := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		ended <- db.inTx(ctx, func(tx *txn) error {
			if _, err := tx.Exec(ctx, insertIncident, sqlstore.IncidentArgs(dialect{}, held, values)...); err != nil {
				return err
			}
			close(inserted)
			<-release
			return errors.New("rolled back by the test")
		})
	}()
	select {
	case <-inserted:
	case err := <-ended:
		t.Fatalf("hold the key: %v", err)
	}
	var once sync.Once
	rollBack = func() { once.Do(func() { close(release); <-ended }) }
	t.Cleanup(rollBack)
	return rollBack
}

// A responder made available while a queued create is between its look at
// the pool and its commit is not missed, whether put on duty or stood
// down by a cancel: the change waits for the create's commit (the pool
// lock), so its offer, made after its own commit, finds the new incident
// and assigns it. Without the lock the offer runs before the create
// commits, finds an empty queue, and the incident waits beside an
// available responder.
func TestResponderFreedMidQueuedCreateIsNotMissed(t *testing.T) {
	const unit = "rsp_0000000000000001"
	putOnDuty := func(ctx context.Context, svc *incident.Service) error {
		_, err := svc.UpsertResponder(ctx, fixtureTenant, unit, incident.ResponderInput{Name: "Unit 1", Location: lagos})
		return err
	}
	for name, setup := range map[string]func(context.Context, *incident.Service) (free func() error, err error){
		"put on duty": func(ctx context.Context, svc *incident.Service) (func() error, error) {
			return func() error { return putOnDuty(ctx, svc) }, nil
		},
		"stood down by a cancel": func(ctx context.Context, svc *incident.Service) (func() error, error) {
			if err := putOnDuty(ctx, svc); err != nil {
				return nil, err
			}
			busy, _, err := svc.Create(ctx, fixtureTenant, incident.CreateIncidentRequest{Category: incident.SOS, Location: incident.Location{Coordinates: lagos}})
			if err == nil && busy.Status != incident.Assigned {
				err = fmt.Errorf("the first incident is %s", busy.Status)
			}
			return func() error {
				_, err := svc.Cancel(ctx, fixtureTenant, busy.ID, incident.CancelIncidentRequest{Reason: "test"})
				return err
			}, err
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := openWithOrg(t, pgtest.URL(t))
			svc := incident.NewService(db.IncidentStore(), incident.Config{NewID: ids.New, Responders: db.ResponderStore()})
			free, err := setup(ctx, svc)
			if err != nil {
				t.Fatal(err)
			}
			rollBack := holdKey(t, db, "held")
			type result struct {
				inc *incident.Incident
				err error
			}
			created := make(chan result, 1)
			go func() {
				inc, _, err := svc.Create(ctx, fixtureTenant, incident.CreateIncidentRequest{Category: incident.SOS, IdempotencyKey: "held",
					Location: incident.Location{Coordinates: lagos}})
				created <- result{inc, err}
			}()
			// The create has looked at the pool (nobody free) and waits at
			// its insert.
			if !untilWaiting(t, db.pool, 1, nil) {
				t.Fatal("the create never waited")
			}
			freed := make(chan struct{})
			var freeErr error
			go func() {
				defer close(freed)
				freeErr = free()
			}()
			// The change either waits for the create or (without the lock)
			// is done, its offer made.
			untilWaiting(t, db.pool, 2, freed)
			rollBack()
			got := <-created
			<-freed
			if got.err != nil || freeErr != nil {
				t.Fatalf("create: %v; free: %v", got.err, freeErr)
			}
			stored, err := svc.Get(ctx, fixtureTenant, got.inc.ID)
			if err != nil {
				t.Fatal(err)
			}
			if stored.Status != incident.Assigned || stored.Responder == nil || stored.Responder.ResponderID != unit {
				t.Fatalf("the incident is %s with responder %+v beside a freed responder: want it assigned", stored.Status, stored.Responder)
			}
		})
	}
}

// Queued creates of one tenant share the pool lock: a create goes through
// while another create's transaction holds it, and waits while a change
// that frees a responder holds it.
func TestQueuedCreatesOfOneTenantDoNotWaitOnEachOther(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openWithOrg(t, pgtest.URL(t))
	q := db.IncidentStore().(incident.QueueingStore)
	create := func(n int) <-chan error {
		now := clock.At(fixtureTime)
		inc := &incident.Incident{ID: fmt.Sprintf("inc_%016d", n), Category: incident.SOS, Severity: incident.High,
			Status: incident.Dispatching, Title: "SOS alert", Location: incident.IncidentLocation{Coordinates: lagos},
			CreatedAt: now, UpdatedAt: now, OrgID: fixtureTenant.OrgID, Environment: fixtureTenant.Env, Sequence: 1}
		done := make(chan error, 1)
		go func() {
			_, _, err := q.CreateQueued(ctx, inc, incident.Effects{Events: []outbox.Event{fixtureEvent(fmt.Sprintf("evt_%016d", n))}}, 50_000)
			done <- err
		}()
		return done
	}
	// hold runs lock in a transaction left open until the returned
	// function ends it.
	hold := func(lock func(context.Context, *txn) error) (end func()) {
		locked, release, ended := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			ended <- db.inTx(ctx, func(tx *txn) error {
				if err := lock(ctx, tx); err != nil {
					return err
				}
				close(locked)
				<-release
				return nil
			})
		}()
		select {
		case <-locked:
		case err := <-ended:
			t.Fatalf("take the lock: %v", err)
		}
		var once sync.Once
		end = func() {
			once.Do(func() {
				close(release)
				if err := <-ended; err != nil {
					t.Error(err)
				}
			})
		}
		t.Cleanup(end)
		return end
	}

	// Another create's lock, held: this create commits while it is held.
	end := hold(func(ctx context.Context, tx *txn) error {
		look := &pgx.Batch{}
		newPoolLook(fixtureTenant, lagos, 50_000).queue(look)
		return tx.run(ctx, look)
	})
	done := create(1)
	finished := make(chan struct{})
	go func() {
		if err := <-done; err != nil {
			t.Error(err)
		}
		close(finished)
	}()
	if untilWaiting(t, db.pool, 1, finished) {
		t.Fatal("a queued create waits for another create of its tenant")
	}
	end()

	// A freeing change's lock, held: the create waits for it.
	end = hold(func(ctx context.Context, tx *txn) error { return lockPool(ctx, tx, fixtureTenant) })
	done = create(2)
	finished = make(chan struct{})
	var err error
	go func() {
		err = <-done
		close(finished)
	}()
	if !untilWaiting(t, db.pool, 1, finished) {
		t.Fatalf("a queued create went ahead of a change that frees a responder (%v)", err)
	}
	end()
	<-finished
	if err != nil {
		t.Fatal(err)
	}
}

// Two instances on one database create incidents while responders are
// freed (cancels) through both: whatever the interleaving, no incident is
// left waiting in dispatching while a responder in range is available.
func TestNoIncidentWaitsBesideAFreeResponderOnPostgres(t *testing.T) {
	t.Parallel()
	rounds := 40
	if testing.Short() {
		rounds = 15
	}
	ctx := context.Background()
	url := pgtest.URL(t)
	first := openWithOrg(t, url)
	second, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { second.Close() })
	var services []*incident.Service
	for _, db := range []*DB{first, second} {
		services = append(services, incident.NewService(db.IncidentStore(), incident.Config{NewID: ids.New, Responders: db.ResponderStore()}))
	}
	for n := range 3 {
		at := geo.NewPoint(lagos.Lat(), lagos.Lng()+float64(n)*0.01)
		if _, err := services[n%2].UpsertResponder(ctx, fixtureTenant, fmt.Sprintf("rsp_%016d", n+1), incident.ResponderInput{Name: "Unit", Location: at}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for g := range 6 {
		svc := services[g%2]
		wg.Go(func() {
			for range rounds {
				inc, _, err := svc.Create(ctx, fixtureTenant, incident.CreateIncidentRequest{Category: incident.SOS, Location: incident.Location{Coordinates: lagos}})
				if err != nil {
					t.Error(err)
					return
				}
				if inc.Status == incident.Assigned {
					if _, err := svc.Cancel(ctx, fixtureTenant, inc.ID, incident.CancelIncidentRequest{Reason: "test"}); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	_, total, err := services[0].List(ctx, fixtureTenant, incident.Filter{Statuses: []incident.Status{incident.Dispatching}, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	free, _, err := services[1].ListResponders(ctx, fixtureTenant, incident.ResponderFilter{Status: incident.Available, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if total > 0 && len(free) > 0 {
		t.Fatalf("%d incidents wait beside %d available responders", total, len(free))
	}
	t.Logf("%d waiting, %d responders available", total, len(free))
}

package sqlite

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/webhook"
)

// subscribe gives tenant (whose organization exists) an enabled endpoint
// for every event.
func subscribe(t *testing.T, db *DB, tenant auth.Tenant) *webhook.Endpoint {
	t.Helper()
	e := &webhook.Endpoint{ID: fmt.Sprintf("we_%016d", time.Now().UnixNano()%1e16), URL: "https://example.com/hooks", Events: []string{"*"},
		Status: webhook.Enabled, CreatedAt: clock.At(testStart), UpdatedAt: clock.At(testStart), OrgID: tenant.OrgID, Environment: tenant.Env,
		Secret: "whsec_c2VjcmV0"}
	if err := db.WebhookStore().CreateEndpoint(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	return e
}

// The fan-out plans the events of tenants with an endpoint, in commit
// order, up to its limit, and publishes those of tenants without one
// with them, unplanned: none is planned twice, none is left pending, and
// an endpoint created later is not given the events published before it.
// Another process sharing the file (second) commits events and creates an
// endpoint: the fan-out, under the write lock, sees both.
func TestFanOutPassesOverTenantsWithoutEndpoints(t *testing.T) {
	db, second := openPair(t)
	ctx := context.Background()
	other := auth.Tenant{OrgID: "org_withoutendpoint1", Env: auth.Live}
	org := &auth.Organization{ID: other.OrgID, Name: "No hooks", Plan: auth.Enterprise, Status: auth.Active, CreatedAt: clock.At(testStart)}
	if err := db.AuthStore().CreateOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	testEnv := auth.Tenant{OrgID: testTenant.OrgID, Env: auth.Test} // the subscribed organization's other environment
	subscribe(t, db, testTenant)

	seq := 0
	commit := func(tenants ...auth.Tenant) {
		t.Helper()
		err := []*DB{db, second}[seq%2].inTx(ctx, func(tx *writeTx) error {
			for _, tn := range tenants {
				seq++
				_, err := tx.ExecContext(ctx, `INSERT INTO outbox_events (id, org_id, environment, type, subject_id, sequence, data, created_at)
					VALUES (?, ?, ?, 'incident.created', ?, 1, '{}', ?)`,
					fmt.Sprintf("evt_%016d", seq), tn.OrgID, tn.Env, fmt.Sprintf("inc_%016d", seq), testStart.UnixMilli())
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var planned []string
	plan := func(ev outbox.Event, endpoints []*webhook.Endpoint) []*webhook.Delivery {
		if len(endpoints) == 0 {
			t.Errorf("event %s planned with no endpoint", ev.ID)
		}
		planned = append(planned, ev.ID)
		return nil
	}
	fanOut := func(limit, want int, wantPlanned string, wantPending int) {
		t.Helper()
		planned = nil
		n, err := db.WebhookQueue().FanOut(ctx, limit, plan)
		if err != nil || n != want || fmt.Sprint(planned) != wantPlanned {
			t.Fatalf("fan-out of %d: %d %v, %v; want %d %s", limit, n, planned, err, want, wantPlanned)
		}
		if pending, err := db.OutboxReader().PendingEvents(ctx, 100); err != nil || len(pending) != wantPending {
			t.Fatalf("pending after the fan-out: %d, %v; want %d", len(pending), err, wantPending)
		}
	}

	commit(other, testTenant, other, testEnv, testTenant, other)
	// Up to the limit: the watermark stops at the last event planned.
	fanOut(1, 1, "[evt_0000000000000002]", 4)
	// Fewer than the limit: every event up to the head is published.
	fanOut(10, 1, "[evt_0000000000000005]", 0)
	fanOut(10, 0, "[]", 0)
	// Only events of tenants without an endpoint: published, none planned.
	commit(other, testEnv)
	fanOut(10, 0, "[]", 0)
	// An endpoint of the other tenant, created by the other process, gets
	// its events from then on.
	subscribe(t, second, other)
	commit(other, testTenant)
	fanOut(10, 2, "[evt_0000000000000009 evt_0000000000000010]", 0)
}

// BenchmarkFanOutWithoutEndpoints measures a fan-out's writer time per
// event when no tenant has an endpoint (every event passed over), as under
// http.sh's create load: each round commits 240 events (what 50 ms of
// creates at 2,400 a second commit), then fans them out, timed.
//
//	go test ./adapters/sqlite -run '^$' -bench FanOutWithoutEndpoints -benchmem -cpu 1
func BenchmarkFanOutWithoutEndpoints(b *testing.B) {
	db, tenant := benchDB(b)
	ctx := context.Background()
	const perRound = 240
	seq := 0
	plan := func(outbox.Event, []*webhook.Endpoint) []*webhook.Delivery { return nil }
	for b.Loop() {
		b.StopTimer()
		err := db.inTx(ctx, func(tx *writeTx) error {
			for range perRound {
				seq++
				_, err := tx.ExecContext(ctx, `INSERT INTO outbox_events (id, org_id, environment, type, subject_id, sequence, data, created_at)
					VALUES (?, ?, ?, 'incident.created', ?, 1, '{}', ?)`,
					fmt.Sprintf("evt_%016d", seq), tenant.OrgID, tenant.Env, fmt.Sprintf("inc_%016d", seq), testStart.UnixMilli())
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := db.WebhookQueue().FanOut(ctx, 500, plan); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if pending, err := db.OutboxReader().PendingEvents(ctx, 10); err != nil || len(pending) != 0 {
		b.Fatalf("pending after the fan-outs: %d, %v", len(pending), err)
	}
}

package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/internal/pgtest"
	"github.com/sety-io/sety/outbox"
)

// A transaction that has drawn an outbox position holds every other writer
// of events until it commits, so the position order is the commit order,
// and no reader sees a position before every lower one is committed.
func TestPositionsFollowCommitOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := Open(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2026, 3, 10, 14, 22, 5, 412e6, time.UTC)
	if err := db.AuthStore().CreateOrganization(ctx, &auth.Organization{ID: "org_aaaaaaaaaaaaaaaa", Name: "Acme", Plan: auth.Enterprise, Status: auth.Active, CreatedAt: clock.At(t0)}); err != nil {
		t.Fatal(err)
	}
	ev := func(id string) outbox.Event {
		return outbox.Event{ID: id, OrgID: "org_aaaaaaaaaaaaaaaa", Environment: "live", Type: "incident.created", SubjectID: id, Sequence: 1, Data: []byte(`{}`), CreatedAt: t0}
	}

	first, err := db.pool.Begin(ctx) // a change committing slowly
	if err != nil {
		t.Fatal(err)
	}
	defer first.Rollback(ctx)
	b := &pgx.Batch{}
	queueEvents(b, []outbox.Event{ev("evt_first")}) // the lock, and the insert
	if err := first.SendBatch(ctx, b).Close(); err != nil {
		t.Fatal(err)
	}
	second := make(chan error, 1)
	go func() {
		second <- db.inTx(ctx, func(tx *txn) error {
			tx.insertEvents([]outbox.Event{ev("evt_second")})
			return nil
		})
	}()
	select {
	case err := <-second:
		t.Fatalf("a second writer of events committed (%v) while the first held its position", err)
	case <-time.After(200 * time.Millisecond):
	}
	if events, _, _ := db.EventLog().EventsAfter(ctx, 0, outbox.Filter{}, 10); len(events) != 0 {
		t.Fatalf("uncommitted events are in the log: %+v", events)
	}
	if err := first.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	events, _, err := db.EventLog().EventsAfter(ctx, 0, outbox.Filter{}, 10)
	if err != nil || len(events) != 2 || events[0].ID != "evt_first" || events[1].ID != "evt_second" || events[0].Position >= events[1].Position {
		t.Fatalf("log %+v, %v; want the first commit, then the second", events, err)
	}
}

package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/internal/pgtest"
	"github.com/sety-io/sety/outbox"
)

// outbox_sequence takes lockSequencer (the number the migration spells is
// the adapter's): while another session holds it, a sequencer that does
// not wait positions nothing, and the event waits; once it is free, the
// event gets the next position.
func TestSequencerTakesTheSequencerLock(t *testing.T) {
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
	holder, err := db.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Release()
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockSequencer); err != nil {
		t.Fatal(err)
	}
	ev := outbox.Event{ID: "evt_1", OrgID: "org_aaaaaaaaaaaaaaaa", Environment: "live", Type: "incident.created", SubjectID: "inc_1", Sequence: 1, Data: []byte(`{}`), CreatedAt: t0}
	if err := db.inTx(ctx, func(tx *txn) error { tx.insertEvents([]outbox.Event{ev}); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := db.trySequence(ctx); err != nil {
		t.Fatal(err)
	}
	if h, err := head(ctx, db.pool); err != nil || h != 0 {
		t.Fatalf("head %d (%v) while another held the sequencer's lock, want 0", h, err)
	}
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_unlock($1)`, lockSequencer); err != nil {
		t.Fatal(err)
	}
	events, next, err := db.EventLog().EventsAfter(ctx, 0, outbox.Filter{}, 10)
	if err != nil || len(events) != 1 || events[0].ID != ev.ID || events[0].Position != 1 || next != 1 {
		t.Fatalf("log %+v, next %d, %v; want the event at position 1", events, next, err)
	}
}

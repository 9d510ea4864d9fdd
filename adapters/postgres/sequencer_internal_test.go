package postgres

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

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
	db := openWithOrg(t, pgtest.URL(t))
	holder, err := db.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Release()
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockSequencer); err != nil {
		t.Fatal(err)
	}
	ev := fixtureEvent("evt_1")
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

// The sequencer's horizon never passes a transaction that is still
// running, so an event it writes later (below the horizon of every run
// meanwhile) is still found; once nothing runs, the horizon passes every
// positioned event's writer, and the next look starts above them. (A
// cluster of the test's own: the horizon is the cluster's, and other
// tests' transactions would hold it back.)
func TestSequencerHorizon(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster of its own")
	}
	t.Parallel()
	ctx := context.Background()
	_, url := pgtest.NewCluster(t, pgtest.Options{})
	db := openWithOrg(t, url)
	ev := fixtureEvent
	horizonPast := func(id string) bool {
		t.Helper()
		var past bool
		if err := db.pool.QueryRow(ctx, `SELECT horizon > (SELECT xid FROM outbox_events WHERE id = $1) FROM outbox_sequencer`, id).Scan(&past); err != nil {
			t.Fatal(err)
		}
		return past
	}
	// A transaction takes its id now and writes its event later.
	late, err := db.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer late.Rollback(ctx)
	if _, err := late.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"evt_1", "evt_2"} {
		if err := db.inTx(ctx, func(tx *txn) error { tx.insertEvents([]outbox.Event{ev(id)}); return nil }); err != nil {
			t.Fatal(err)
		}
		if err := db.sequence(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if horizonPast("evt_1") {
		t.Fatal("the horizon passed a transaction still running")
	}
	var b pgx.Batch
	queueEvents(&b, []outbox.Event{ev("evt_late")})
	if err := late.SendBatch(ctx, &b).Close(); err != nil {
		t.Fatal(err)
	}
	if err := late.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	events, _, err := db.EventLog().EventsAfter(ctx, 0, outbox.Filter{}, 10)
	if err != nil || len(events) != 3 || events[2].ID != "evt_late" || events[2].Position != 3 {
		t.Fatalf("log %+v (%v), want evt_1, evt_2, then the late event at 3", events, err)
	}
	if !horizonPast("evt_late") {
		t.Fatal("with nothing running, the horizon did not pass the positioned events' writers")
	}
}

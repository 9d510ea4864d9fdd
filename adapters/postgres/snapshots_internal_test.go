package postgres

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sety-io/sety/internal/pgtest"
	"github.com/sety-io/sety/outbox"
)

// Once a run has taken everything, it records its snapshot, and the next
// runs take the difference of two snapshots (migration 0030): the events
// of transactions that ended between them. A transaction that wrote its
// event before a run and commits after it is in no snapshot's difference
// until it has ended, then in exactly one: it is positioned once, after
// what the runs meanwhile positioned, in insertion order with what ended
// alongside it. A rolled-back transaction's event never is. The probe
// whether anything waits reads the same difference.
func TestSequencerTakesTheDifferenceOfTwoSnapshots(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openWithOrg(t, pgtest.URL(t))
	write := func(id string) {
		t.Helper()
		if err := db.inTx(ctx, func(tx *txn) error { tx.insertEvents([]outbox.Event{fixtureEvent(id)}); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	run := func() {
		t.Helper()
		if err := db.sequence(ctx); err != nil {
			t.Fatal(err)
		}
	}
	waits := func() bool {
		t.Helper()
		var any bool
		if err := db.pool.QueryRow(ctx, `SELECT outbox_waiting_any()`).Scan(&any); err != nil {
			t.Fatal(err)
		}
		return any
	}
	recorded := func() bool {
		t.Helper()
		var ok bool
		if err := db.pool.QueryRow(ctx, `SELECT snap IS NOT NULL FROM outbox_sequencer`).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	uncommitted := func(id string) pgx.Tx {
		t.Helper()
		tx, err := db.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
		var b pgx.Batch
		queueEvents(&b, []outbox.Event{fixtureEvent(id)})
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			t.Fatal(err)
		}
		return tx
	}

	write("evt_1")
	run()
	if !recorded() {
		t.Fatal("a run that took everything recorded no snapshot")
	}
	late := uncommitted("evt_late") // inserted before evt_2: an earlier seq
	aborted := uncommitted("evt_aborted")
	write("evt_2")
	if !waits() {
		t.Fatal("outbox_waiting_any() = false with evt_2 committed and not positioned")
	}
	run()
	if waits() {
		t.Fatal("outbox_waiting_any() = true with only running transactions' events left")
	}
	if err := late.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := aborted.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	write("evt_3")
	if !waits() {
		t.Fatal("outbox_waiting_any() = false with the late event and evt_3 committed")
	}
	run()
	run() // a run with nothing new positions nothing again
	events, _, err := db.EventLog().EventsAfter(ctx, 0, outbox.Filter{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, ev := range events {
		if ev.Position != int64(i+1) {
			t.Fatalf("%s at %d, want %d: the log %+v", ev.ID, ev.Position, i+1, events)
		}
		got = append(got, ev.ID)
	}
	if want := []string{"evt_1", "evt_2", "evt_late", "evt_3"}; !slices.Equal(got, want) {
		t.Fatalf("the log holds %v, want %v", got, want)
	}
	if waits() {
		t.Fatal("outbox_waiting_any() = true with every committed event positioned")
	}
}

// Runs before any snapshot is recorded (the first after migration 30)
// and runs by snapshot difference, alternating while writers commit all
// along: every committed event is positioned once, at dense positions,
// and no run fails. A run before any snapshot that took an event whose
// transaction committed after its snapshot and before its insert had it
// taken again by the next run, which then failed on the log's unique
// index, and so did every run after it. (A cluster of the test's own:
// another test's transaction, left open in the shared cluster, holds
// every snapshot's xmin back, and each run would read every event
// written since.)
func TestSequencerRunsWhileWritersCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster of its own")
	}
	t.Parallel()
	ctx := context.Background()
	_, url := pgtest.NewCluster(t, pgtest.Options{})
	db := openWithOrg(t, url)
	var (
		wg      sync.WaitGroup
		stop    atomic.Bool
		written atomic.Int64
	)
	// The writers stop at a flag, not a cancelled context: a transaction
	// cut short on the client side may still commit on the server after
	// its writer returned, and so after the last run below.
	for w := range 4 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				ev := fixtureEvent(fmt.Sprintf("evt_%d_%d", w, i))
				if err := db.inTx(ctx, func(tx *txn) error { tx.insertEvents([]outbox.Event{ev}); return nil }); err != nil {
					t.Error(err)
					return
				}
				written.Add(1)
			}
		})
	}
	runs := func() error {
		for range 150 {
			if _, err := db.pool.Exec(ctx, `UPDATE outbox_sequencer SET snap = NULL`); err != nil {
				return err
			}
			for range 2 { // the first run before a snapshot, the second by difference
				if _, err := db.pool.Exec(ctx, `SELECT outbox_sequence($1, true)`, sequenceBatch); err != nil {
					return fmt.Errorf("a run failed with %d events written: %w", written.Load(), err)
				}
			}
		}
		return nil
	}
	err := runs()
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if err := db.sequence(ctx); err != nil {
		t.Fatal(err)
	}
	var events, logged, head, distinct int64
	if err := db.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM outbox_events), count(*), coalesce(max(position), 0), count(DISTINCT event_id) FROM outbox_log`).
		Scan(&events, &logged, &head, &distinct); err != nil {
		t.Fatal(err)
	}
	if logged != events || head != logged || distinct != logged || events < 100 {
		t.Fatalf("%d events, %d log rows of %d events, head %d: want every event once at dense positions (and some hundreds written)", events, logged, distinct, head)
	}
}

// A backlog by difference is one run, whatever its size: with a snapshot
// recorded, 10,000 events committed at once are positioned by the next
// sequence, densely and in insertion order, beyond sequenceBatch.
func TestSequencerTakesABacklogInOneRun(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 10,000 events")
	}
	t.Parallel()
	ctx := context.Background()
	db := openWithOrg(t, pgtest.URL(t))
	if err := db.inTx(ctx, func(tx *txn) error { tx.insertEvents([]outbox.Event{fixtureEvent("evt_first")}); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := db.sequence(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO outbox_events (id, org_id, environment, type, subject_id, sequence, data, created_at)
		SELECT 'evt_' || lpad(i::text, 5, '0'), $1, 'live', 'incident.created', 'inc_' || i, 1, '{}', now() FROM generate_series(1, 10000) i`,
		fixtureTenant.OrgID); err != nil {
		t.Fatal(err)
	}
	if n, err := callSequencer(ctx, db.pool); err != nil || n != 10000 {
		t.Fatalf("one run by difference positioned %d (%v), want all 10,000", n, err)
	}
	var logged, head, ordered int64
	if err := db.pool.QueryRow(ctx, `SELECT count(*), max(position),
		count(*) FILTER (WHERE event_id = 'evt_' || lpad((position - 1)::text, 5, '0')) FROM outbox_log WHERE position > 1`).
		Scan(&logged, &head, &ordered); err != nil {
		t.Fatal(err)
	}
	if logged != 10000 || head != 10001 || ordered != 10000 {
		t.Fatalf("%d log rows after the first, head %d, %d in insertion order; want 10,000, 10,001, 10,000", logged, head, ordered)
	}
}

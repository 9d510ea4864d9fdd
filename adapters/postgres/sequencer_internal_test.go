package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sety-io/sety/internal/pgtest"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/webhook"
)

// outbox_sequence takes lockSequencer (the number the migration spells is
// the adapter's): while another session holds it, a sequencer that does
// not wait positions nothing, and the event waits; once it is free, the
// event gets the next position.
func TestSequencerTakesTheSequencerLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openWithOrg(t, pgtest.URL(t))
	release := holdSequencerLock(t, db)
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
	release()
	events, next, err := db.EventLog().EventsAfter(ctx, 0, outbox.Filter{}, 10)
	if err != nil || len(events) != 1 || events[0].ID != ev.ID || events[0].Position != 1 || next != 1 {
		t.Fatalf("log %+v, next %d, %v; want the event at position 1", events, next, err)
	}
}

// holdSequencerLock takes the sequencer's lock in a session of its own,
// as another instance's sequencer would, until release.
func holdSequencerLock(t *testing.T, db *DB) (release func()) {
	t.Helper()
	ctx := context.Background()
	holder, err := db.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(holder.Release)
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockSequencer); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := holder.Exec(ctx, `SELECT pg_advisory_unlock($1)`, lockSequencer); err != nil {
			t.Fatal(err)
		}
	}
}

// A sequencer that does not wait and finds the lock taken says how many
// runs have committed (-1 - runs); each run counts itself, so a reader
// knows which run it needs (sharedRun). Once the lock is free, sequence
// positions the event written meanwhile.
func TestSequencerCountsItsRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openWithOrg(t, pgtest.URL(t))
	runs := func() int64 {
		t.Helper()
		var n int64
		if err := db.pool.QueryRow(ctx, `SELECT runs FROM outbox_sequencer`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	write := func(id string) {
		t.Helper()
		if err := db.inTx(ctx, func(tx *txn) error { tx.insertEvents([]outbox.Event{fixtureEvent(id)}); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	write("evt_1")
	before := runs()
	if err := db.sequence(ctx); err != nil {
		t.Fatal(err)
	}
	if got := runs(); got != before+1 {
		t.Fatalf("runs %d after one run from %d", got, before)
	}
	release := holdSequencerLock(t, db)
	write("evt_2")
	if n, err := callSequencer(ctx, db.pool); err != nil || n != -1-(before+1) {
		t.Fatalf("outbox_sequence with the lock taken = %d (%v), want %d", n, err, -1-(before+1))
	}
	release()
	events, _, err := db.EventLog().EventsAfter(ctx, 0, outbox.Filter{}, 10)
	if err != nil || len(events) != 2 || events[1].ID != "evt_2" || events[1].Position != 2 {
		t.Fatalf("log %+v (%v), want evt_1, then evt_2 at 2", events, err)
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

// The look for waiting events (outbox_waiting) checks each event above the
// sequencer's horizon against the log's index, and never reads the whole
// log: its cost follows the events written since the horizon, not the
// log's size. Here a running transaction holds the horizon back below
// 2,000 positioned events, and one more waits.
func TestWaitingLookProbesTheLog(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster of its own")
	}
	t.Parallel()
	ctx := context.Background()
	_, url := pgtest.NewCluster(t, pgtest.Options{})
	db := openWithOrg(t, url)
	old, err := db.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Rollback(ctx)
	if _, err := old.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil {
		t.Fatal(err)
	}
	events := make([]outbox.Event, 2000)
	for i := range events {
		events[i] = fixtureEvent(fmt.Sprintf("evt_%d", i))
	}
	for i := 0; i < len(events); i += 500 {
		if err := db.inTx(ctx, func(tx *txn) error { tx.insertEvents(events[i : i+500]); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.sequence(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.inTx(ctx, func(tx *txn) error { tx.insertEvents([]outbox.Event{fixtureEvent("evt_waiting")}); return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `ANALYZE outbox_events; ANALYZE outbox_log`); err != nil {
		t.Fatal(err)
	}
	var (
		waiting           []string
		seqScans, idxScan int64
	)
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM outbox_waiting()`)
		if err != nil {
			return err
		}
		if waiting, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relname = 'outbox_log'`).Scan(&seqScans, &idxScan)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(waiting) != 1 || waiting[0] != "evt_waiting" {
		t.Fatalf("waiting %v, want [evt_waiting]", waiting)
	}
	if seqScans != 0 || idxScan == 0 {
		t.Fatalf("the look read the log by %d sequential and %d index scans, want index scans only", seqScans, idxScan)
	}
	// The probe (outbox_waiting_any) says the same: one waits; once it is
	// positioned, none, though 2,001 events are still above the horizon.
	for _, want := range []bool{true, false} {
		var any bool
		if err := db.pool.QueryRow(ctx, `SELECT outbox_waiting_any()`).Scan(&any); err != nil || any != want {
			t.Fatalf("outbox_waiting_any() = %v (%v), want %v", any, err, want)
		}
		if err := db.sequence(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// A fan-out that finds the sequencer's lock taken (another instance's
// fan-out or sequencer) tries again, and after a few tries queues on the
// lock: it is never starved, and once the lock is free it takes the event
// written meanwhile, once.
func TestFanOutWaitsForATakenLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openWithOrg(t, pgtest.URL(t))
	release := holdSequencerLock(t, db)
	if err := db.inTx(ctx, func(tx *txn) error { tx.insertEvents([]outbox.Event{fixtureEvent("evt_1")}); return nil }); err != nil {
		t.Fatal(err)
	}
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := db.WebhookQueue().FanOut(ctx, 10, func(outbox.Event, []*webhook.Endpoint) []*webhook.Delivery { return nil })
		done <- result{n, err}
	}()
	// Until the fan-out queues on the lock (its tries spent), nothing else
	// changes: wait for PostgreSQL to show it waiting.
	for waiting := false; !waiting; {
		if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND objid = ($1::bigint & 4294967295) AND classid = ($1::bigint >> 32))`, lockSequencer).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-done:
			t.Fatalf("FanOut returned %d (%v) while the lock was taken", r.n, r.err)
		default:
		}
	}
	release()
	if r := <-done; r.err != nil || r.n != 1 {
		t.Fatalf("FanOut took %d (%v), want the one event", r.n, r.err)
	}
	if n, err := db.WebhookQueue().FanOut(ctx, 10, func(outbox.Event, []*webhook.Endpoint) []*webhook.Delivery { return nil }); err != nil || n != 0 {
		t.Fatalf("a second FanOut took %d (%v), want none", n, err)
	}
}

// A fan-out that takes every event positioned (a batch not full) counts
// itself as it commits, a full one does not; one that finds the lock
// taken says how many had counted, so FanOut knows which one it may leave
// its events to (migration 0023).
func TestFanOutCountsTheFanOutsThatTookEverything(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openWithOrg(t, pgtest.URL(t))
	q := &webhookQueue{db: db}
	noDeliveries := func(outbox.Event, []*webhook.Endpoint) []*webhook.Delivery { return nil }
	runs := func() (n int64) {
		t.Helper()
		if err := db.pool.QueryRow(ctx, `SELECT runs FROM outbox_cursors WHERE name = 'fan-out'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := db.inTx(ctx, func(tx *txn) error {
		tx.insertEvents([]outbox.Event{fixtureEvent("evt_1"), fixtureEvent("evt_2"), fixtureEvent("evt_3")})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n, _, err := q.fanOut(ctx, 2, noDeliveries, false); err != nil || n != 2 || runs() != 0 {
		t.Fatalf("a full batch: took %d (%v), %d counted; want 2 taken, none counted", n, err, runs())
	}
	if n, _, err := q.fanOut(ctx, 2, noDeliveries, false); err != nil || n != 1 || runs() != 1 {
		t.Fatalf("the rest: took %d (%v), %d counted; want 1 taken, 1 counted", n, err, runs())
	}
	release := holdSequencerLock(t, db)
	if _, done, err := q.fanOut(ctx, 2, noDeliveries, false); !errors.As(err, new(busyFanOut)) || done != 1 {
		t.Fatalf("lock taken: done %d, %v; want busy with 1 done", done, err)
	}
	release()
}

// The sequencer's looks (outbox_waiting_any, outbox_waiting) cost what
// lies above the horizon, never a read of the whole events table: each
// connection plans them once (migration 0025), here while the table was
// empty, and keeps its plan as the table grows to thousands of events,
// all but one positioned. In one transaction, the looks find the one
// event that waits and read outbox_events through its indexes only.
func TestSequencerLooksNeverReadTheWholeEventsTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openWithOrg(t, pgtest.URL(t))
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	look := func(q pgx.Tx) (found bool, waiting int) {
		t.Helper()
		if err := q.QueryRow(ctx, `SELECT outbox_waiting_any(), (SELECT count(*) FROM outbox_waiting())`).Scan(&found, &waiting); err != nil {
			t.Fatal(err)
		}
		return found, waiting
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if found, waiting := look(tx); found || waiting != 0 {
		t.Fatalf("empty outbox: found %v, %d waiting; want none", found, waiting)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO outbox_events (id, org_id, environment, type, subject_id, sequence, data, created_at)
		SELECT 'evt_' || i, $1, 'live', 'incident.created', 'inc_' || i, 1, repeat('x', 500), now() FROM generate_series(1, 3000) i`,
		fixtureTenant.OrgID); err != nil {
		t.Fatal(err)
	}
	if err := db.sequence(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.inTx(ctx, func(tx *txn) error { tx.insertEvents([]outbox.Event{fixtureEvent("evt_late")}); return nil }); err != nil {
		t.Fatal(err)
	}
	tx, err = conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if found, waiting := look(tx); !found || waiting != 1 {
		t.Fatalf("3,000 events positioned, one not: found %v, %d waiting; want true, 1", found, waiting)
	}
	var scans int64
	if err := tx.QueryRow(ctx, `SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'outbox_events'`).Scan(&scans); err != nil {
		t.Fatal(err)
	}
	if scans != 0 {
		t.Errorf("the looks read outbox_events sequentially %d times, want 0", scans)
	}
}

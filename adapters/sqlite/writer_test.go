package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"modernc.org/sqlite"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
)

// Tests of group commit: they put concurrent transactions into one batch
// by plugging the writer (a transaction that waits) until all of them are
// queued, and check what each caller gets and what the file holds.

var (
	testTenant = auth.Tenant{OrgID: "org_groupcommit00001", Env: auth.Live}
	testStart  = time.Date(2026, 3, 10, 14, 22, 5, 0, time.UTC)
)

func openTest(t *testing.T) *DB {
	t.Helper()
	return openTestWith(t, &Options{Synchronous: "NORMAL"})
}

// openTestWith is openTest with opts.
func openTestWith(t *testing.T, opts *Options) *DB {
	t.Helper()
	o := *opts
	o.aloneEvery = -1 // every get checks the stamp (alone_test.go tests the other way)
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "sety.db"), &o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	org := &auth.Organization{ID: testTenant.OrgID, Name: "Group commit", Plan: auth.Enterprise, Status: auth.Active, CreatedAt: clock.At(testStart)}
	if err := db.AuthStore().CreateOrganization(context.Background(), org); err != nil {
		t.Fatal(err)
	}
	return db
}

// plug makes the writer run a transaction that waits until release is
// called: whatever is queued meanwhile is taken as one batch after it.
func plug(t *testing.T, db *DB) (release func()) {
	t.Helper()
	started, unplug, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- db.inTx(context.Background(), func(*writeTx) error { close(started); <-unplug; return nil })
	}()
	<-started
	return func() {
		close(unplug)
		if err := <-done; err != nil {
			t.Errorf("the plug: %v", err)
		}
	}
}

// waitQueued waits until n transactions wait for the writer.
func waitQueued(db *DB, n int) {
	for {
		queued := db.w.Queued()
		if queued >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// batchOf plugs the writer until n transactions are queued, so that they
// run as one batch; the returned function reports the sizes of the batches
// committed since the plug's own.
func batchOf(t *testing.T, db *DB, n int) func() []int {
	var mu sync.Mutex
	var sizes []int
	db.ObserveCommits(func(size int, _ time.Duration) {
		mu.Lock()
		sizes = append(sizes, size)
		mu.Unlock()
	})
	release := sync.OnceFunc(plug(t, db))
	t.Cleanup(release) // if the test failed before n were queued
	go func() {
		waitQueued(db, n)
		release()
	}()
	return func() []int {
		mu.Lock()
		defer mu.Unlock()
		if len(sizes) == 0 {
			return nil
		}
		return append([]int(nil), sizes[1:]...) // without the plug's
	}
}

// concurrently runs fn(i) for i in [0, n) on n goroutines and returns their
// errors.
func concurrently(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	return errs
}

func testIncident(i int, key string) (*incident.Incident, outbox.Event) {
	now := clock.At(testStart)
	inc := &incident.Incident{
		ID: fmt.Sprintf("inc_%016d", i), Category: incident.SOS, Severity: incident.High, Status: incident.Created,
		Title: "SOS", Location: incident.IncidentLocation{Coordinates: geo.NewPoint(6.52, 3.38)},
		Timeline:  []incident.IncidentTimelineEvent{{Status: incident.Created, Event: incident.EventCreated, Message: "Incident received", Timestamp: now}},
		CreatedAt: now, UpdatedAt: now, OrgID: testTenant.OrgID, Environment: testTenant.Env, Sequence: 1,
	}
	if key != "" {
		inc.IdempotencyKey = &key
	}
	ev := outbox.Event{ID: fmt.Sprintf("evt_%016d", i), OrgID: inc.OrgID, Environment: string(inc.Environment), Type: incident.TypeCreated,
		SubjectID: inc.ID, Sequence: 1, Data: []byte(`{}`), CreatedAt: testStart}
	return inc, ev
}

func countRows(t *testing.T, db *DB, table string) int {
	t.Helper()
	var n int
	if err := db.read.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func orgExists(t *testing.T, db *DB, id string) bool {
	t.Helper()
	_, err := db.AuthStore().GetOrganization(context.Background(), id)
	if err != nil && !errors.Is(err, auth.ErrOrganizationNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func insertOrg(ctx context.Context, tx *writeTx, id string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO organizations (id, name, plan, status, created_at) VALUES (?, 'o', 'starter', 'active', 0)`, id)
	return err
}

// Concurrent creates with one idempotency key in a single batch make one
// incident: each later create sees the first one's row in the batch's
// transaction.
func TestBatchIdempotencyKey(t *testing.T) {
	db := openTest(t)
	const n = 12
	sizes := batchOf(t, db, n)
	ids := make([]string, n)
	created := make([]bool, n)
	errs := concurrently(n, func(i int) error {
		inc, ev := testIncident(i, "session_44c1a9e2")
		got, ok, err := db.IncidentStore().CreateIncident(context.Background(), inc, incident.Effects{Events: []outbox.Event{ev}})
		if err == nil {
			ids[i], created[i] = got.ID, ok
		}
		return err
	})
	if got := sizes(); len(got) != 1 || got[0] != n {
		t.Fatalf("batches %v, want one of %d", got, n)
	}
	made := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("create %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("creates returned different incidents: %s and %s", ids[0], ids[i])
		}
		if created[i] {
			made++
		}
	}
	if made != 1 || countRows(t, db, "incidents") != 1 || countRows(t, db, "outbox_events") != 1 {
		t.Fatalf("%d created, %d incidents, %d events; want 1 each", made, countRows(t, db, "incidents"), countRows(t, db, "outbox_events"))
	}
}

// A caller that fails, by an error or a panic, is rolled back alone; a
// unique violation is still Conflict; the others in its batch commit.
func TestBatchFailureRollsBackAlone(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	sizes := batchOf(t, db, 5)
	errBoom := errors.New("boom")
	errs := concurrently(5, func(i int) error {
		return db.inTx(ctx, func(tx *writeTx) error {
			id := fmt.Sprintf("org_batchmember%05d", i)
			if err := insertOrg(ctx, tx, id); err != nil {
				return err
			}
			switch i {
			case 1:
				return errBoom
			case 2:
				panic("callback bug")
			case 3:
				return translate(insertOrg(ctx, tx, id)) // a duplicate
			}
			return nil
		})
	})
	if got := sizes(); len(got) != 1 || got[0] != 5 {
		t.Fatalf("batches %v, want one of 5", got)
	}
	for i, err := range errs {
		id := fmt.Sprintf("org_batchmember%05d", i)
		switch i {
		case 1:
			if !errors.Is(err, errBoom) {
				t.Errorf("member 1: %v, want its own error", err)
			}
		case 2:
			if err == nil || !strings.Contains(err.Error(), "callback bug") {
				t.Errorf("member 2: %v, want the panic as an error", err)
			}
		case 3:
			if setyerr.KindOf(err) != setyerr.Conflict {
				t.Errorf("member 3: %v, want Conflict", err)
			}
		default:
			if err != nil {
				t.Errorf("member %d: %v", i, err)
			}
		}
		if want := err == nil; orgExists(t, db, id) != want {
			t.Errorf("member %d (err %v): row stored = %v", i, err, !want)
		}
	}
}

// When the batch's commit fails, every caller in it gets the error and
// nothing of the batch is stored; the next batch starts clean.
func TestBatchCommitFailureFailsAll(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	sizes := batchOf(t, db, 3)
	errs := concurrently(3, func(i int) error {
		return db.inTx(ctx, func(tx *writeTx) error {
			if err := insertOrg(ctx, tx, fmt.Sprintf("org_commitfail%06d", i)); err != nil {
				return err
			}
			if i != 1 {
				return nil
			}
			// A foreign key checked only at COMMIT: the batch cannot commit.
			if _, err := tx.ExecContext(ctx, `PRAGMA defer_foreign_keys = ON`); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, org_id, name, environment, prefix, scopes, hash, created_at)
				VALUES ('key_orphan0000000000', 'org_missing000000000', 'k', 'live', 'p', '[]', x'00', 0)`)
			return err
		})
	})
	if got := sizes(); len(got) != 0 {
		t.Fatalf("batches %v committed, want none", got)
	}
	for i, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") {
			t.Errorf("member %d: %v, want the commit's error", i, err)
		}
		if orgExists(t, db, fmt.Sprintf("org_commitfail%06d", i)) {
			t.Errorf("member %d's row is stored after a failed commit", i)
		}
	}
	if err := db.inTx(ctx, func(tx *writeTx) error { return insertOrg(ctx, tx, "org_after00000000000") }); err != nil {
		t.Fatalf("the write after a failed commit: %v", err)
	}
	if !orgExists(t, db, "org_after00000000000") {
		t.Fatal("the write after a failed commit is not stored")
	}
}

// If SQLite ends the transaction under the batch (as it does on some I/O
// errors; here a ROLLBACK does), the callers before it are not
// acknowledged: their work is gone. Its rollback hook tells the writer, so
// nothing more of the batch runs: a statement of the same callback fails
// instead of committing on its own, and the callbacks after it never run.
func TestBatchLostTransactionFailsAll(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	sizes := batchOf(t, db, 3)
	var ran atomic.Int32 // callbacks run, in the batch's order
	errs := concurrently(3, func(i int) error {
		return db.inTx(ctx, func(tx *writeTx) error {
			second := ran.Add(1) == 2
			if err := insertOrg(ctx, tx, fmt.Sprintf("org_lost%012d", i)); err != nil {
				return err
			}
			if !second {
				return nil
			}
			if _, err := tx.ExecContext(ctx, `ROLLBACK`); err != nil {
				return err
			}
			// An error swallowed: the callback goes on writing.
			if err := insertOrg(ctx, tx, "org_lostafter0000000"); !errors.Is(err, errLost) {
				t.Errorf("a write after the transaction was lost: %v, want errLost", err)
			}
			return nil
		})
	})
	if got := sizes(); len(got) != 0 {
		t.Fatalf("batches %v committed, want none", got)
	}
	for i, err := range errs {
		if setyerr.KindOf(err) != setyerr.Unavailable {
			t.Errorf("member %d: %v, want Unavailable", i, err)
		}
		if orgExists(t, db, fmt.Sprintf("org_lost%012d", i)) {
			t.Errorf("member %d's row is stored", i)
		}
	}
	if n := ran.Load(); n != 2 {
		t.Errorf("%d callbacks ran, want the two up to the lost transaction", n)
	}
	if orgExists(t, db, "org_lostafter0000000") {
		t.Error("a write after the transaction was lost committed on its own")
	}
	if err := db.inTx(ctx, func(tx *writeTx) error { return insertOrg(ctx, tx, "org_nextbatch0000000") }); err != nil || !orgExists(t, db, "org_nextbatch0000000") {
		t.Fatalf("the batch after a lost transaction: %v", err)
	}
}

// A full disk (or an I/O error, or no memory) inside a caller's work may
// have rolled back the whole transaction, as SQLite documents: the writer
// does not go on as if only that caller's savepoint were undone, and
// nobody in the batch is told their write is stored.
func TestBatchFullDiskFailsAll(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	sizes := batchOf(t, db, 3)
	errs := concurrently(3, func(i int) error {
		return db.inTx(ctx, func(tx *writeTx) error {
			id := fmt.Sprintf("org_fulldisk%08d", i)
			if i != 1 {
				return insertOrg(ctx, tx, id)
			}
			// The file may not grow: SQLite answers SQLITE_FULL.
			if _, err := tx.ExecContext(ctx, `PRAGMA max_page_count = 1`); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO organizations (id, name, plan, status, created_at)
				VALUES (?, hex(randomblob(1000000)), 'starter', 'active', 0)`, id)
			return err
		})
	})
	if got := sizes(); len(got) != 0 {
		t.Fatalf("batches %v committed, want none", got)
	}
	for i, err := range errs {
		if setyerr.KindOf(err) != setyerr.Unavailable {
			t.Errorf("member %d: %v, want Unavailable", i, err)
		}
		if orgExists(t, db, fmt.Sprintf("org_fulldisk%08d", i)) {
			t.Errorf("member %d's row is stored", i)
		}
	}
	// The limit is lifted in the next transaction: SQLite rolled this
	// one back, so the writer runs nothing more of it.
	if err := db.inTx(ctx, func(tx *writeTx) error {
		if _, err := tx.ExecContext(ctx, `PRAGMA max_page_count = 1073741823`); err != nil {
			return err
		}
		return insertOrg(ctx, tx, "org_afterfull0000000")
	}); err != nil {
		t.Fatalf("the write after a full disk: %v", err)
	}
}

// A caller whose context ends while it is queued leaves at once, and its
// callback never runs.
func TestQueuedCallerCancels(t *testing.T) {
	db := openTest(t)
	sizes := batchOf(t, db, 2) // the writer waits for a second caller
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{}, 1)
	done := make(chan error)
	go func() {
		done <- db.inTx(ctx, func(tx *writeTx) error { ran <- struct{}{}; return nil })
	}()
	waitQueued(db, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled while queued: %v", err)
	}
	bg := context.Background()
	if err := db.inTx(bg, func(tx *writeTx) error { return insertOrg(bg, tx, "org_second0000000000") }); err != nil {
		t.Fatal(err)
	}
	if got := sizes(); len(got) != 1 || got[0] != 1 {
		t.Fatalf("batches %v, want one of 1 (the abandoned caller is not run)", got)
	}
	select {
	case <-ran:
		t.Fatal("the abandoned callback ran")
	default:
	}
}

// Close lets queued writes finish; writes after it fail.
func TestCloseDrainsQueue(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	release := plug(t, db) // until Close has begun
	errs := make(chan error, 3)
	for i := range 3 {
		go func() {
			errs <- db.inTx(ctx, func(tx *writeTx) error { return insertOrg(ctx, tx, fmt.Sprintf("org_drain%011d", i)) })
		}()
	}
	waitQueued(db, 3)
	closed := make(chan error)
	go func() { closed <- db.Close() }()
	for {
		closing := db.w.Closing()
		if closing {
			break
		}
		time.Sleep(time.Millisecond)
	}
	release()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatalf("a write queued before Close: %v", err)
		}
	}
	if err := db.inTx(ctx, func(tx *writeTx) error { return nil }); !errors.Is(err, errClosed) {
		t.Fatalf("a write after Close: %v", err)
	}
}

// A caller is answered only after the commit holding its change: SQLite's
// commit hook, which runs as COMMIT begins, waits a while and then finds
// that nobody of the batch has been answered yet; and once answered, any
// other connection (here the read pool) sees the change.
func TestAnsweredAfterCommit(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	var answered, early atomic.Int64
	err := db.w.Conn().Raw(func(dc any) error {
		dc.(interface{ RegisterCommitHook(sqlite.CommitHookFn) }).RegisterCommitHook(func() int32 {
			time.Sleep(20 * time.Millisecond) // time enough for an early answer to show
			early.Add(answered.Load())
			return 0
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	const n = 16
	for round := range 3 {
		answered.Store(0)
		sizes := batchOf(t, db, n)
		errs := concurrently(n, func(i int) error {
			id := fmt.Sprintf("org_round%d%010d", round, i)
			if err := db.inTx(ctx, func(tx *writeTx) error { return insertOrg(ctx, tx, id) }); err != nil {
				return err
			}
			answered.Add(1)
			if _, err := db.AuthStore().GetOrganization(ctx, id); err != nil {
				return fmt.Errorf("answered, but %s is not committed: %w", id, err)
			}
			return nil
		})
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got := sizes(); len(got) != 1 || got[0] != n {
			t.Fatalf("batches %v, want one of %d", got, n)
		}
		if early.Load() != 0 {
			t.Fatalf("%d callers answered before their batch committed", early.Load())
		}
	}
}

package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/groupcommit"
	"github.com/sety-io/sety/outbox"
)

// openPair opens two handles on one file, as two processes would, with the
// test organization.
func openPair(t testing.TB) (a, b *DB) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sety.db")
	var dbs [2]*DB
	for i := range dbs {
		db, err := Open(ctx, path, &Options{Synchronous: "NORMAL", aloneEvery: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	org := &auth.Organization{ID: testTenant.OrgID, Name: "Stamp", Plan: auth.Enterprise, Status: auth.Active, CreatedAt: clock.At(testStart)}
	if err := dbs[0].AuthStore().CreateOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	return dbs[0], dbs[1]
}

func peekOf(t testing.TB, db *DB, id string) *incident.Incident {
	t.Helper()
	got, err := db.IncidentStore().(incident.SharedReader).PeekIncident(context.Background(), testTenant, id)
	if err != nil {
		t.Fatalf("peek %s: %v", id, err)
	}
	return got
}

func createTest(t testing.TB, db *DB, i int) *incident.Incident {
	t.Helper()
	inc, ev := testIncident(i, "")
	if _, _, err := db.IncidentStore().CreateIncident(context.Background(), inc, incident.Effects{Events: []outbox.Event{ev}}); err != nil {
		t.Fatal(err)
	}
	return inc
}

func retitle(t *testing.T, db *DB, id, title string) {
	t.Helper()
	if _, err := db.IncidentStore().UpdateIncident(context.Background(), testTenant, id, func(cur *incident.Incident) (incident.Effects, error) {
		cur.Title = title
		return incident.Effects{}, nil
	}); err != nil {
		t.Fatal(err)
	}
}

// isFresh says whether a get of id would now answer from the kept incident
// without reading its row.
func isFresh(db *DB, id string) bool {
	_, ok := db.stamps.fresh(id, testTenant.OrgID, string(testTenant.Env))
	return ok
}

// Every way of changing an incident row, by this handle or by another one
// on the same file (another process), is seen by the very next get: the
// store's writes (create, a queued create, a change of the document, of
// the tracking alone) and a statement no store method runs. Between
// changes, a get of an unchanged incident answers from the kept value,
// even while other writes (here another incident's) commit.
func TestGetSeesEveryIncidentChangeOfEitherHandle(t *testing.T) {
	ctx := context.Background()
	a, b := openPair(t)
	bystander := createTest(t, a, 99)
	peekOf(t, a, bystander.ID)
	for _, writer := range []struct {
		name string
		db   *DB
	}{{"this handle", a}, {"another handle", b}} {
		t.Run(writer.name, func(t *testing.T) {
			w := writer.db
			base := 1
			if w == b {
				base = 50
			}
			inc := createTest(t, w, base)
			if got := peekOf(t, a, inc.ID); got.Title != "SOS" {
				t.Fatalf("get after create: %q", got.Title)
			}
			queued, ev := testIncident(base+1, "")
			queued.Status = incident.Dispatching
			if _, _, err := w.IncidentStore().(incident.QueueingStore).CreateQueued(ctx, queued, incident.Effects{Events: []outbox.Event{ev}}, 1000); err != nil {
				t.Fatal(err)
			}
			if got := peekOf(t, a, queued.ID); got.ID != queued.ID {
				t.Fatalf("get after a queued create: %s", got.ID)
			}
			changes := []struct {
				name   string
				change func()
				check  func(*incident.Incident) bool
			}{
				{"document", func() { retitle(t, w, inc.ID, "Changed") }, func(i *incident.Incident) bool { return i.Title == "Changed" }},
				{"tracking alone", func() {
					if _, err := w.IncidentStore().UpdateIncident(ctx, testTenant, inc.ID, func(cur *incident.Incident) (incident.Effects, error) {
						cur.Tracking.AssignBreached = true
						return incident.Effects{}, nil
					}); err != nil {
						t.Fatal(err)
					}
				}, func(i *incident.Incident) bool { return i.Tracking.AssignBreached }},
				{"status", func() {
					if _, err := w.IncidentStore().UpdateIncident(ctx, testTenant, inc.ID, func(cur *incident.Incident) (incident.Effects, error) {
						cur.Status = incident.Cancelled
						return incident.Effects{}, nil
					}); err != nil {
						t.Fatal(err)
					}
				}, func(i *incident.Incident) bool { return i.Status == incident.Cancelled }},
				{"a statement outside the store", func() {
					if err := w.w.Do(ctx, func(tx *groupcommit.Tx) error {
						_, err := tx.ExecContext(ctx, `UPDATE incidents SET doc = json_set(doc, '$.title', 'Raw') WHERE id = ?`, inc.ID)
						return err
					}); err != nil {
						t.Fatal(err)
					}
				}, func(i *incident.Incident) bool { return i.Title == "Raw" }},
			}
			for _, c := range changes {
				before := peekOf(t, a, inc.ID)
				if !isFresh(a, inc.ID) || peekOf(t, a, inc.ID) != before {
					t.Fatalf("%s: an unchanged incident read again instead of kept", c.name)
				}
				c.change()
				if got := peekOf(t, a, inc.ID); !c.check(got) {
					t.Fatalf("the get after a change of the %s (%s) missed it: %+v", c.name, writer.name, got)
				}
			}
			// Another incident's changes left the bystander kept when this
			// process made them; another process's make it read again.
			if fresh := isFresh(a, bystander.ID); fresh != (w == a) {
				t.Fatalf("bystander kept after %s's changes: %v", writer.name, fresh)
			}
			peekOf(t, a, bystander.ID)
			if !isFresh(a, bystander.ID) {
				t.Fatal("bystander not kept after it was read again")
			}
		})
	}
}

// Every move of the stamp by this handle's writes is a commit it recorded:
// no write path changes an incident unseen by the writer's notes.
func TestEveryStampMoveIsRecorded(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	start := readStampOf(t, db)
	var ids []string
	for i := range 5 {
		ids = append(ids, createTest(t, db, i+1).ID)
	}
	for _, id := range ids {
		retitle(t, db, id, "Again")
	}
	// One batch of several changes, one of them rolled back in its
	// savepoint: its numbers are taken back, and the batch's commit holds
	// the others.
	release := plug(t, db)
	errs := make(chan error, 3)
	for i, id := range ids[:3] {
		go func() {
			_, err := db.IncidentStore().UpdateIncident(ctx, testTenant, id, func(cur *incident.Incident) (incident.Effects, error) {
				if i == 1 {
					return incident.Effects{}, fmt.Errorf("refused")
				}
				cur.Title = "Batched"
				return incident.Effects{}, nil
			})
			errs <- err
		}()
	}
	for db.w.Queued() < 3 {
		runtime.Gosched()
	}
	release()
	for range 3 {
		<-errs
	}
	end := readStampOf(t, db)
	db.decoded.mu.Lock()
	commits := append([]stampCommit(nil), db.decoded.log.commits...)
	db.decoded.mu.Unlock()
	at := start
	for _, c := range commits {
		if c.from != at {
			t.Fatalf("commit (%d, %d] after %d: numbers not recorded", c.from, c.to, at)
		}
		at = c.to
	}
	if at != end || end-start != 5+5+2 {
		t.Fatalf("recorded up to %d of %d (from %d): want 12 changes recorded", at, end, start)
	}
}

func readStampOf(t *testing.T, db *DB) int64 {
	t.Helper()
	var n int64
	if err := db.read.QueryRow(readStamp).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A get that arrives while a check runs waits for the next one: a check
// that read the stamp before a write was acknowledged (here another
// process's: this one's own un-keep what they change at once) does not
// answer a get that began after it.
func TestGetWaitsForACheckThatBeganAfterIt(t *testing.T) {
	ctx := context.Background()
	db, other := openPair(t)
	inc := createTest(t, db, 1)
	peekOf(t, db, inc.ID)
	read, release := make(chan struct{}), make(chan struct{})
	first := true
	db.stamps.afterRead = func() {
		if first { // the first check only: it runs alone
			first = false
			close(read)
			<-release
		}
	}
	early := make(chan *incident.Incident)
	go func() {
		got, _ := db.IncidentStore().(incident.SharedReader).PeekIncident(ctx, testTenant, inc.ID)
		early <- got
	}()
	<-read // the first check has read the stamp: the change below is not in it
	retitle(t, other, inc.ID, "Changed")
	late := make(chan *incident.Incident)
	go func() {
		got, _ := db.IncidentStore().(incident.SharedReader).PeekIncident(ctx, testTenant, inc.ID)
		late <- got
	}()
	for waiting := false; !waiting; {
		select {
		case got := <-late:
			t.Fatalf("a get answered by a check that began before it (while that check was held): %+v", got)
		default:
		}
		db.stamps.mu.Lock()
		waiting = db.stamps.next != nil
		db.stamps.mu.Unlock()
		runtime.Gosched()
	}
	close(release)
	// The early get is answered by the first check, usually as the
	// incident was; but the round it hands over to may apply the change
	// before the early get looks (it then reads the row): a get may show
	// a write made after it began, never miss one made before.
	if got := <-early; got == nil || (got.Title != "SOS" && got.Title != "Changed") {
		t.Fatalf("the get that began before the change: %+v, want the incident as it was or as changed", got)
	}
	if got := <-late; got == nil || got.Title != "Changed" {
		t.Fatalf("the get that began after the change was acknowledged: %+v, want Changed", got)
	}
}

// Between a commit and its record (the writer's caller not answered yet),
// a check that sees its numbers lets no kept incident it may have changed
// answer, and takes them for no other process's (the others stay kept).
func TestGetBetweenACommitAndItsRecord(t *testing.T) {
	db := openTest(t)
	inc, other := createTest(t, db, 1), createTest(t, db, 2)
	peekOf(t, db, inc.ID)
	peekOf(t, db, other.ID)
	committed, release := make(chan struct{}), make(chan struct{})
	db.w.OnCommit(func(tx *groupcommit.Tx) (func(bool), error) {
		done, err := db.decoded.beforeCommit(tx)
		if done == nil {
			return nil, err
		}
		return func(ok bool) {
			close(committed)
			<-release
			done(ok)
		}, err
	})
	written := make(chan struct{})
	go func() {
		retitle(t, db, inc.ID, "Changed")
		close(written)
	}()
	<-committed
	if got := peekOf(t, db, inc.ID); got.Title != "Changed" {
		t.Fatalf("get of a committed change not recorded yet: %q, want it read from its row", got.Title)
	}
	close(release)
	<-written
	db.w.OnCommit(db.decoded.beforeCommit)
	if got := peekOf(t, db, inc.ID); got.Title != "Changed" {
		t.Fatalf("get after the change was acknowledged: %q", got.Title)
	}
	if !isFresh(db, other.ID) {
		t.Fatal("an incident the commit did not change is no longer kept: its numbers were taken for another process's")
	}
}

// The log checked against, alone: a commit that failed, or one of this
// process's that fell out of the log, reads as another process's change
// and un-keeps every incident read before it; recorded commits un-keep
// only what they changed.
func TestStampLog(t *testing.T) {
	keep := func(c *decodedIncidents, id string, at int64) {
		c.byID[id] = decodedIncident{row: testRow(id), at: at}
	}
	fresh := func(c *decodedIncidents, id string, stamp int64) bool {
		c.mu.Lock()
		c.advance(stamp)
		c.mu.Unlock()
		_, ok := c.fresh(id, testTenant.OrgID, string(testTenant.Env), stamp)
		return ok
	}
	t.Run("recorded", func(t *testing.T) {
		c := newDecodedIncidents()
		c.log.valid = 10
		keep(c, "a", 10)
		keep(c, "b", 10)
		c.record(stampCommit{from: 10, to: 12, ids: []string{"b"}}, true)
		if !fresh(c, "a", 12) || fresh(c, "b", 12) {
			t.Fatal("a commit of b un-kept a, or kept b")
		}
	})
	t.Run("failed", func(t *testing.T) {
		c := newDecodedIncidents()
		c.log.valid = 10
		keep(c, "a", 10)
		c.record(stampCommit{from: 10, to: 11, ids: []string{"b"}}, false)
		// The numbers of the failed commit, committed by another writer:
		if fresh(c, "a", 11) {
			t.Fatal("a failed commit's numbers trusted")
		}
		keep(c, "a", 11)
		if !fresh(c, "a", 11) {
			t.Fatal("an incident read after the other process's change not kept")
		}
	})
	t.Run("overflow", func(t *testing.T) {
		c := newDecodedIncidents()
		c.log.valid = 10
		keep(c, "a", 10)
		n := int64(10)
		for range 2*maxCommits + 1 {
			c.record(stampCommit{from: n, to: n + 1, ids: []string{"b"}}, true)
			n++
		}
		if len(c.log.commits) > 2*maxCommits {
			t.Fatalf("%d commits kept", len(c.log.commits))
		}
		if fresh(c, "a", n) {
			t.Fatal("kept across commits that fell out of the log")
		}
	})
	t.Run("pending", func(t *testing.T) {
		c := newDecodedIncidents()
		c.log.valid = 10
		keep(c, "a", 10)
		c.log.pending = stampCommit{from: 10, to: 11, ids: []string{"b"}}
		if fresh(c, "a", 11) {
			t.Fatal("kept across a commit not recorded yet")
		}
		c.record(c.log.pending, true)
		if !fresh(c, "a", 11) || c.log.floor != 0 {
			t.Fatalf("not kept once the commit was recorded (floor %d)", c.log.floor)
		}
	})
}

func testRow(id string) sqlstore.IncidentRow {
	return sqlstore.IncidentRow{ID: id, OrgID: testTenant.OrgID, Environment: string(testTenant.Env)}
}

// A batch whose COMMIT fails (a foreign key checked only at COMMIT) records
// nothing: its numbers are taken back with it, the writer's commit under
// way ends, and the next get answers the incident as it is stored. The
// numbers go to the next commit, recorded as that commit's.
func TestFailedCommitRecordsNothing(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	inc := createTest(t, db, 1)
	peekOf(t, db, inc.ID)
	start := readStampOf(t, db)
	release := plug(t, db)
	errs := make(chan error, 2)
	go func() {
		_, err := db.IncidentStore().UpdateIncident(ctx, testTenant, inc.ID, func(cur *incident.Incident) (incident.Effects, error) {
			cur.Title = "Never stored"
			return incident.Effects{}, nil
		})
		errs <- err
	}()
	go func() {
		errs <- db.inTx(ctx, func(tx *writeTx) error {
			if _, err := tx.ExecContext(ctx, `PRAGMA defer_foreign_keys = ON`); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, org_id, name, environment, prefix, scopes, hash, created_at)
				VALUES ('key_orphan0000000000', 'org_missing000000000', 'k', 'live', 'p', '[]', x'00', 0)`)
			return err
		})
	}()
	for db.w.Queued() < 2 {
		runtime.Gosched()
	}
	release()
	for range 2 {
		if err := <-errs; err == nil {
			t.Fatal("a member of a batch whose COMMIT failed succeeded")
		}
	}
	db.decoded.mu.Lock()
	pending, recorded := db.decoded.log.pending, len(db.decoded.log.commits)
	last := db.decoded.log.commits[recorded-1]
	db.decoded.mu.Unlock()
	if pending.to != 0 || last.to > start || readStampOf(t, db) != start {
		t.Fatalf("after a failed COMMIT: pending %+v, last recorded %+v, stamp %d (was %d)", pending, last, readStampOf(t, db), start)
	}
	if got := peekOf(t, db, inc.ID); got.Title != "SOS" {
		t.Fatalf("get after a failed change: %q", got.Title)
	}
	retitle(t, db, inc.ID, "Stored")
	if got := peekOf(t, db, inc.ID); got.Title != "Stored" {
		t.Fatalf("get after the next change: %q", got.Title)
	}
}

// A commit hook that fails fails its batch: nothing of it is stored.
func TestCommitHookErrorFailsTheBatch(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	inc := createTest(t, db, 1)
	db.w.OnCommit(func(tx *groupcommit.Tx) (func(bool), error) {
		done, err := db.decoded.beforeCommit(tx)
		if err != nil {
			return nil, err
		}
		return done, fmt.Errorf("the hook fails") // the writer ends it: done(false)
	})
	if _, err := db.IncidentStore().UpdateIncident(ctx, testTenant, inc.ID, func(cur *incident.Incident) (incident.Effects, error) {
		cur.Title = "Never stored"
		return incident.Effects{}, nil
	}); err == nil {
		t.Fatal("a write whose batch's commit hook failed succeeded")
	}
	db.w.OnCommit(db.decoded.beforeCommit)
	db.decoded.mu.Lock()
	pending := db.decoded.log.pending
	db.decoded.mu.Unlock()
	if pending.to != 0 {
		t.Fatalf("the failed batch's commit still under way: %+v", pending)
	}
	if got := peekOf(t, db, inc.ID); got.Title != "SOS" {
		t.Fatalf("get after a batch that failed in its hook: %q", got.Title)
	}
}

// A get that starts a check alone lets other goroutines run first, and the
// gets that arrive meanwhile share its check, which reads the stamp after
// all of them arrived: here another process changes the incident and a
// second get arrives while the first yields; one check answers both, and
// both see the change.
func TestGetsArrivingWhileACheckGathersShareIt(t *testing.T) {
	ctx := context.Background()
	db, other := openPair(t)
	inc := createTest(t, db, 1)
	peekOf(t, db, inc.ID)
	checks := 0
	db.stamps.afterRead = func() { checks++ }
	second := make(chan *incident.Incident)
	db.stamps.yield = func() {
		retitle(t, other, inc.ID, "Changed")
		go func() {
			got, _ := db.IncidentStore().(incident.SharedReader).PeekIncident(ctx, testTenant, inc.ID)
			second <- got
		}()
		for joined := false; !joined; runtime.Gosched() {
			// The second get waits for this round once the candidate
			// check let it through; it must not start a round of its own.
			db.stamps.mu.Lock()
			joined = db.stamps.next != nil && db.stamps.next.joined == 1
			db.stamps.mu.Unlock()
		}
	}
	first := peekOf(t, db, inc.ID)
	if got := <-second; got == nil || got.Title != "Changed" {
		t.Fatalf("the get that joined the round: %+v, want Changed", got)
	}
	if first.Title != "Changed" {
		t.Fatalf("the get that led the round: %q, want Changed (its check began after the change)", first.Title)
	}
	if checks != 1 {
		t.Fatalf("%d checks for two gets that arrived together, want 1", checks)
	}
}

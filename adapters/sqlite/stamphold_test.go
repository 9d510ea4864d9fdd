package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
)

// holding says whether the stamp checks hold a read transaction open.
func holding(db *DB) bool {
	r := db.stamps.reader
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.held != nil
}

// checkpoint runs a PASSIVE checkpoint of the file from a connection of
// its own (again while another checkpoint runs) and returns the log's
// frames and how many of them are in the database file now.
func checkpoint(t *testing.T, path string) (log, copied int) {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for {
		var busy int
		if err := conn.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &copied); err != nil {
			t.Fatal(err)
		}
		if busy == 0 {
			return log, copied
		}
		runtime.Gosched() // the store's own checkpointer was copying
	}
}

// A check's read transaction stays open after it when this process made
// no commit since the check before, and this process's next commit ends
// it first: it would keep that commit's frames from being copied and the
// log from starting over. The check after a commit holds nothing.
func TestThisProcessesCommitEndsTheHeldRead(t *testing.T) {
	db := openTest(t)
	db.stamps.reader.idleAfter = time.Hour // the test ends it, not the timer
	inc := createTest(t, db, 1)
	peekOf(t, db, inc.ID) // reads the row and keeps it
	peekOf(t, db, inc.ID) // a check after a commit
	if holding(db) {
		t.Fatal("a check that followed a commit of this process held its read transaction")
	}
	peekOf(t, db, inc.ID) // a check with no commit since the one before
	if !holding(db) {
		t.Fatal("no read transaction held after a check with no commit since the one before")
	}
	retitle(t, db, inc.ID, "Changed")
	if holding(db) {
		t.Fatal("the read transaction of the check before a commit of this process still open")
	}
	if log, copied := checkpoint(t, db.filePath(t)); copied != log {
		t.Fatalf("checkpoint copied %d of %d frames after a commit of this process", copied, log)
	}
	if got := peekOf(t, db, inc.ID); got.Title != "Changed" {
		t.Fatalf("get after the change: %q", got.Title)
	}
}

// A read transaction no check replaced is let go when the timer finds it
// idle, not while checks keep replacing it; until then another process's
// commits stay in the log.
func TestAnIdleHeldReadIsLetGo(t *testing.T) {
	a, b := openPair(t)
	r := a.stamps.reader
	r.idleAfter = time.Hour // the test calls idle
	inc := createTest(t, a, 1)
	peekOf(t, a, inc.ID)
	peekOf(t, a, inc.ID) // a check after a's commit: holds nothing
	peekOf(t, a, inc.ID) // a check that holds its read: arms the timer
	peekOf(t, a, inc.ID) // another: the timer finds the hold renewed
	r.idle()
	if !holding(a) {
		t.Fatal("a read transaction a check renewed since the timer armed was let go")
	}
	retitle(t, b, inc.ID, "Changed") // another process: a's hold stays
	if log, copied := checkpoint(t, a.filePath(t)); copied == log {
		t.Fatalf("checkpoint copied all %d frames while a read transaction older than the last commit was open", log)
	}
	r.idle()
	if holding(a) {
		t.Fatal("an idle read transaction still held")
	}
	if log, copied := checkpoint(t, a.filePath(t)); copied != log {
		t.Fatalf("checkpoint copied %d of %d frames once the idle read was let go", copied, log)
	}
	if got := peekOf(t, a, inc.ID); got.Title != "Changed" {
		t.Fatalf("get after another process's change: %q", got.Title)
	}
	if !holding(a) {
		t.Fatal("no read transaction held after the next check")
	}
}

// Another process's writes while this one holds a check's read
// transaction: one acknowledged before a get began is seen by it; one
// rolled back (its COMMIT failed) changes nothing; closing this process's
// handle with a read held and opening it again leaves nothing behind.
func TestAnotherProcessesWritesWhileACheckHoldsItsRead(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sety.db")
	other := openOn(t, path)
	defer other.Close()
	org := &auth.Organization{ID: testTenant.OrgID, Name: "Hold", Plan: auth.Enterprise, Status: auth.Active, CreatedAt: clock.At(testStart)}
	if err := other.AuthStore().CreateOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	db := openOn(t, path)
	db.stamps.reader.idleAfter = time.Hour
	inc := createTest(t, other, 1)
	peekOf(t, db, inc.ID)
	for i, title := range []string{"First", "Second", "Third"} {
		if got := peekOf(t, db, inc.ID); !holding(db) || !isFresh(db, inc.ID) {
			t.Fatalf("change %d: an unchanged incident not kept (%q) or no read held", i, got.Title)
		}
		retitle(t, other, inc.ID, title)
		if got := peekOf(t, db, inc.ID); got.Title != title {
			t.Fatalf("the get after another process's change %q shows %q", title, got.Title)
		}
	}

	// A batch of the other process that changes the incident and fails
	// at COMMIT (a foreign key checked only then).
	peekOf(t, db, inc.ID)
	err := other.inTx(ctx, func(tx *writeTx) error {
		if _, err := tx.ExecContext(ctx, `PRAGMA defer_foreign_keys = ON`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE incidents SET doc = json_set(doc, '$.title', 'Never') WHERE id = ?`, inc.ID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, org_id, name, environment, prefix, scopes, hash, created_at)
			VALUES ('key_orphan0000000000', 'org_missing000000000', 'k', 'live', 'p', '[]', x'00', 0)`)
		return err
	})
	if err == nil {
		t.Fatal("a batch whose COMMIT must fail succeeded")
	}
	if got := peekOf(t, db, inc.ID); got.Title != "Third" {
		t.Fatalf("get after another process's rolled-back change: %q", got.Title)
	}
	retitle(t, other, inc.ID, "Fourth")
	if got := peekOf(t, db, inc.ID); got.Title != "Fourth" {
		t.Fatalf("get after another process's change that followed a rolled-back one: %q", got.Title)
	}

	// Closed with a read held, then opened again.
	peekOf(t, db, inc.ID)
	if !holding(db) {
		t.Fatal("no read held before Close")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	retitle(t, other, inc.ID, "Fifth")
	if log, copied := checkpoint(t, path); copied != log {
		t.Fatalf("checkpoint copied %d of %d frames after the handle that held a read closed", copied, log)
	}
	db = openOn(t, path)
	defer db.Close()
	if got := peekOf(t, db, inc.ID); got.Title != "Fifth" {
		t.Fatalf("get after reopening: %q", got.Title)
	}
	peekOf(t, db, inc.ID)
	retitle(t, other, inc.ID, "Sixth")
	if got := peekOf(t, db, inc.ID); got.Title != "Sixth" {
		t.Fatalf("get after reopening and another process's change: %q", got.Title)
	}
	// And this process's own write, while the reopened handle holds a read.
	peekOf(t, db, inc.ID)
	retitle(t, db, inc.ID, "Seventh")
	if got := peekOf(t, other, inc.ID); got.Title != "Seventh" {
		t.Fatalf("the other process's get after this one's change: %q", got.Title)
	}
	if got := peekOf(t, db, inc.ID); got.Title != "Seventh" {
		t.Fatalf("get after this process's own change: %q", got.Title)
	}
}

// openOn opens a handle on path; the caller closes it.
func openOn(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path, &Options{Synchronous: "NORMAL", aloneEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// filePath is the file db was opened on.
func (db *DB) filePath(t *testing.T) string {
	t.Helper()
	var seq int
	var name, file string
	if err := db.read.QueryRow(`PRAGMA database_list`).Scan(&seq, &name, &file); err != nil {
		t.Fatal(err)
	}
	return file
}

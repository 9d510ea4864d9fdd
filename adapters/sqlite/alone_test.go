package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
)

// openPolledByHand opens a handle on path whose presence polls only when
// the test calls poll.
func openPolledByHand(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path, &Options{Synchronous: "NORMAL", aloneEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// countReads counts the stamp reads of db's checks.
func countReads(db *DB) *atomic.Int64 {
	var n atomic.Int64
	db.stamps.afterRead = func() { n.Add(1) }
	return &n
}

func addTestOrg(t *testing.T, db *DB) {
	t.Helper()
	org := &auth.Organization{ID: testTenant.OrgID, Name: "Alone", Plan: auth.Enterprise, Status: auth.Active, CreatedAt: clock.At(testStart)}
	if err := db.AuthStore().CreateOrganization(context.Background(), org); err != nil {
		t.Fatal(err)
	}
}

// A handle alone on its file answers a get of a kept incident without
// reading the stamp, and still shows every change of its own the moment
// it is acknowledged.
func TestAHandleAloneAnswersWithoutReadingTheStamp(t *testing.T) {
	needInstanceLocks(t)
	db := openPolledByHand(t, filepath.Join(t.TempDir(), "sety.db"))
	addTestOrg(t, db)
	inc := createTest(t, db, 1)
	other := createTest(t, db, 2)
	db.presence.poll()
	if !db.presence.isAlone() {
		t.Fatal("the only handle on the file is not alone after a poll")
	}
	reads := countReads(db)
	peekOf(t, db, inc.ID) // reads the row, keeps it
	for i, title := range []string{"First", "Second", "Third"} {
		if !isFresh(db, inc.ID) {
			t.Fatalf("change %d: the unchanged incident does not answer from what is kept", i)
		}
		retitle(t, db, other.ID, title) // another incident's change leaves it kept
		if !isFresh(db, inc.ID) {
			t.Fatalf("change %d: another incident's change un-kept it", i)
		}
		retitle(t, db, inc.ID, title)
		if got := peekOf(t, db, inc.ID); got.Title != title {
			t.Fatalf("the get after this handle's change %q shows %q", title, got.Title)
		}
	}
	if n := reads.Load(); n != 0 {
		t.Fatalf("%d stamp reads while alone", n)
	}
}

// An opening handle waits until the alone one has stepped back, so it
// writes nothing behind an alone handle's gets; once it has closed, the
// other is alone again, having read what it wrote.
func TestAnOpeningHandleWaitsForTheAloneOneToStepBack(t *testing.T) {
	needInstanceLocks(t)
	path := filepath.Join(t.TempDir(), "sety.db")
	a := openPolledByHand(t, path)
	addTestOrg(t, a)
	inc := createTest(t, a, 1)
	a.presence.poll()
	if !a.presence.isAlone() {
		t.Fatal("not alone")
	}
	peekOf(t, a, inc.ID)

	opened := make(chan *DB, 1)
	go func() {
		b, err := Open(context.Background(), path, &Options{Synchronous: "NORMAL", aloneEvery: -1})
		if err != nil {
			t.Error(err)
		}
		opened <- b
	}()
	for !knocking(t, a) { // until the newcomer knocks; it must not open
		select {
		case <-opened:
			t.Fatal("a handle opened while another was alone")
		default:
			runtime.Gosched()
		}
	}
	select {
	case <-opened:
		t.Fatal("a handle opened while another was alone")
	default:
	}
	a.presence.poll() // sees the knock
	if a.presence.isAlone() {
		t.Fatal("still alone after a knock")
	}
	b := <-opened
	if b == nil {
		return
	}
	retitle(t, b, inc.ID, "From b")
	if got := peekOf(t, a, inc.ID); got.Title != "From b" {
		t.Fatalf("the get after the other handle's change shows %q", got.Title)
	}
	a.presence.poll()
	if a.presence.isAlone() {
		t.Fatal("alone while another handle is open")
	}
	retitle(t, b, inc.ID, "Last from b")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	a.presence.poll()
	if !a.presence.isAlone() {
		t.Fatal("not alone once the other handle closed")
	}
	if got := peekOf(t, a, inc.ID); got.Title != "Last from b" {
		t.Fatalf("alone again, the get shows %q, not the closed handle's last change", got.Title)
	}
}

// knocking says whether a handle knocks on db's instances file.
func knocking(t *testing.T, db *DB) bool {
	t.Helper()
	db.presence.mu.Lock()
	defer db.presence.mu.Unlock()
	knocked, err := db.presence.file.knocked()
	if err != nil {
		t.Fatal(err)
	}
	return knocked
}

// An alone handle that a newcomer finds never stepping back (its process
// stopped, here: never polled) makes the newcomer's Open fail after the
// busy timeout, saying why, rather than write behind its gets.
func TestOpenGivesUpOnAnAloneHandleThatMakesNoRoom(t *testing.T) {
	needInstanceLocks(t)
	path := filepath.Join(t.TempDir(), "sety.db")
	a := openPolledByHand(t, path)
	a.presence.poll()
	_, err := Open(context.Background(), path, &Options{Synchronous: "NORMAL", BusyTimeout: 20 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "made no room") {
		t.Fatalf("Open beside a handle that stays alone: %v", err)
	}
	a.presence.poll() // the knock is gone with the failed Open
	if !a.presence.isAlone() {
		t.Fatal("a failed Open left the alone handle stepped back")
	}
}

// A writer that takes no part in the locks (a connection of its own, as
// an earlier release or a sqlite3 shell would be) is seen by the alone
// handle's next poll, or by its next get after a commit of its own, and
// the handle never answers alone again.
func TestAnAloneHandleStopsForAWriterThatTakesNoPart(t *testing.T) {
	needInstanceLocks(t)
	for _, seenBy := range []string{"poll", "get"} {
		t.Run(seenBy, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sety.db")
			db := openPolledByHand(t, path)
			addTestOrg(t, db)
			inc := createTest(t, db, 1)
			other := createTest(t, db, 2)
			db.presence.poll()
			peekOf(t, db, inc.ID)
			foreign, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
			if err != nil {
				t.Fatal(err)
			}
			defer foreign.Close()
			if _, err := foreign.Exec(`UPDATE incidents SET doc = json_set(doc, '$.title', 'Foreign') WHERE id = ?`, inc.ID); err != nil {
				t.Fatal(err)
			}
			switch seenBy {
			case "poll":
				db.presence.poll()
			case "get":
				retitle(t, db, other.ID, "Own") // a number after the foreign one
				peekOf(t, db, other.ID)
			}
			if db.presence.isAlone() {
				t.Fatal("still alone after a writer that takes no part")
			}
			if got := peekOf(t, db, inc.ID); got.Title != "Foreign" {
				t.Fatalf("the get after the foreign change shows %q", got.Title)
			}
			db.presence.poll()
			db.presence.poll()
			if db.presence.isAlone() {
				t.Fatal("alone again after a writer that takes no part")
			}
		})
	}
}

// needInstanceLocks skips the test where handles cannot be alone (no
// open file description locks: every get checks the stamp there).
func needInstanceLocks(t *testing.T) {
	t.Helper()
	f, err := openInstancesFile(filepath.Join(t.TempDir(), "probe"), "")
	if err != nil {
		t.Skipf("no instance locks here (%v): every get checks the stamp", err)
	}
	f.Close()
}

// TestGetsWhileHandlesComeAndGo: gets from many goroutines on a handle
// that polls every millisecond, while other handles open, change the
// incident and close, again and again, so that the handle is alone
// between them and steps back for each: every get shows the incident at
// least as new as the last change acknowledged before the get began.
// Run with -race.
func TestGetsWhileHandlesComeAndGo(t *testing.T) {
	needInstanceLocks(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sety.db")
	db, err := Open(ctx, path, &Options{Synchronous: "NORMAL", aloneEvery: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	addTestOrg(t, db)
	inc := createTest(t, db, 1)
	var acked atomic.Int64 // the last change acknowledged, by either handle
	stop := make(chan struct{})
	var alone atomic.Int64 // gets that found the handle alone
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				before := acked.Load()
				if db.presence.isAlone() {
					alone.Add(1)
				}
				if got := peekOf(t, db, inc.ID); changeNumber(got.Title) < before {
					t.Errorf("a get that began after change %d shows %q", before, got.Title)
					return
				}
			}
		})
	}
	for n := int64(1); n <= 60; n++ {
		title := "Change " + strconv.FormatInt(n, 10)
		if n%3 == 0 { // this handle's own change
			retitle(t, db, inc.ID, title)
			acked.Store(n)
			continue
		}
		other, err := Open(ctx, path, &Options{Synchronous: "NORMAL", aloneEvery: -1})
		if err != nil {
			t.Fatal(err)
		}
		retitle(t, other, inc.ID, title)
		acked.Store(n)
		if err := other.Close(); err != nil {
			t.Fatal(err)
		}
		for !db.presence.isAlone() && !t.Failed() { // until the handle is alone again
			runtime.Gosched()
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("%d gets found the handle alone", alone.Load())
	if alone.Load() == 0 {
		t.Fatal("no get found the handle alone")
	}
}

package sqlite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
)

// twoHandles opens the same file twice, as two processes would (each
// handle has its own writer, readers and stamps), with testTenant's
// organization in it.
func twoHandles(t *testing.T) (a, b *DB, path string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "sety.db")
	var handles [2]*DB
	for i := range handles {
		db, err := Open(context.Background(), path, &Options{Synchronous: "NORMAL"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		handles[i] = db
	}
	org := &auth.Organization{ID: testTenant.OrgID, Name: "Stamps", Plan: auth.Enterprise, Status: auth.Active, CreatedAt: clock.At(testStart)}
	if err := handles[0].AuthStore().CreateOrganization(context.Background(), org); err != nil {
		t.Fatal(err)
	}
	return handles[0], handles[1], path
}

func stampOf(t *testing.T, db *DB) walStamp {
	t.Helper()
	s, ok := db.stamps.read()
	if !ok {
		t.Fatal("no WAL-index stamp to read")
	}
	return s
}

func TestWALStampMovesWithEveryCommitOfAnyHandle(t *testing.T) {
	a, b, _ := twoHandles(t)
	ctx := context.Background()
	before := stampOf(t, a)
	if stampOf(t, a) != before || stampOf(t, b) != before {
		t.Fatal("the stamp moved, or differs between handles, with nothing committed")
	}
	inc, ev := testIncident(1, "")
	if _, _, err := a.IncidentStore().CreateIncident(ctx, inc, incident.Effects{Events: []outbox.Event{ev}}); err != nil {
		t.Fatal(err)
	}
	afterOwn := stampOf(t, a)
	if afterOwn == before {
		t.Fatal("the stamp stayed the same across this handle's commit")
	}
	other := &auth.Organization{ID: "org_stampsother00001", Name: "Other", Plan: auth.Starter, Status: auth.Active, CreatedAt: clock.At(testStart)}
	if err := b.AuthStore().CreateOrganization(ctx, other); err != nil {
		t.Fatal(err)
	}
	if stampOf(t, a) == afterOwn {
		t.Fatal("the stamp stayed the same across another handle's commit")
	}
}

func TestGetAnswersFromTheKeptIncidentOnlyWhileNothingCommits(t *testing.T) {
	a, b, _ := twoHandles(t)
	ctx := context.Background()
	inc, ev := testIncident(1, "")
	if _, _, err := a.IncidentStore().CreateIncident(ctx, inc, incident.Effects{Events: []outbox.Event{ev}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.IncidentStore().GetIncident(ctx, testTenant, inc.ID); err != nil {
		t.Fatal(err)
	}
	kept := a.decoded.unchanged(inc.ID, testTenant, stampOf(t, a))
	if kept == nil || kept.Title != inc.Title {
		t.Fatalf("after a get with nothing committed since, the kept incident is %v; want it to answer the next get", kept)
	}
	// A list that reads the unchanged incident leaves the shortcut in place.
	if _, _, err := a.IncidentStore().ListIncidents(ctx, testTenant, incident.Filter{Limit: 20}); err != nil {
		t.Fatal(err)
	}
	if a.decoded.unchanged(inc.ID, testTenant, stampOf(t, a)) == nil {
		t.Fatal("a list of the unchanged incident ended the get shortcut")
	}
	// Another tenant asking for the id is not answered from what is kept.
	otherTenant := auth.Tenant{OrgID: testTenant.OrgID, Env: auth.Test}
	if a.decoded.unchanged(inc.ID, otherTenant, stampOf(t, a)) != nil {
		t.Fatal("the kept incident would answer another tenant")
	}
	if _, err := a.IncidentStore().GetIncident(ctx, otherTenant, inc.ID); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("another tenant's get: %v, want ErrNotFound", err)
	}

	// A change committed by the other handle: the next get reads it.
	if _, err := b.IncidentStore().UpdateIncident(ctx, testTenant, inc.ID, func(cur *incident.Incident) (incident.Effects, error) {
		cur.Title = "Changed by another process"
		return incident.Effects{}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if a.decoded.unchanged(inc.ID, testTenant, stampOf(t, a)) != nil {
		t.Fatal("the kept incident would answer after another handle's commit")
	}
	got, err := a.IncidentStore().GetIncident(ctx, testTenant, inc.ID)
	if err != nil || got.Title != "Changed by another process" {
		t.Fatalf("get after another handle's change: %v %v", got, err)
	}

	// A commit that does not touch the incident also ends the shortcut:
	// the stamp says only that something committed.
	if err := b.AuthStore().CreateOrganization(ctx, &auth.Organization{ID: "org_stampsother00002", Name: "Other", Plan: auth.Starter,
		Status: auth.Active, CreatedAt: clock.At(testStart)}); err != nil {
		t.Fatal(err)
	}
	if a.decoded.unchanged(inc.ID, testTenant, stampOf(t, a)) != nil {
		t.Fatal("the kept incident would answer after an unrelated commit")
	}

	// What a get returns is the caller's to change.
	got.Title = "Scribbled on by the caller"
	again, err := a.IncidentStore().GetIncident(ctx, testTenant, inc.ID)
	if err != nil || again.Title != "Changed by another process" {
		t.Fatalf("get after the caller changed its copy: %v %v", again.Title, err)
	}
	again.Title = "Scribbled again"
	if kept := a.decoded.unchanged(inc.ID, testTenant, stampOf(t, a)); kept == nil || kept.Title != "Changed by another process" {
		t.Fatalf("the kept incident after the caller changed its copy: %v", kept)
	}
}

// SQLite locks the -shm file with POSIX advisory locks, which belong to the
// process: closing any descriptor of the file drops all of them. The
// stamps' descriptor must never be closed while a connection of the
// process may hold the database, as another handle on the file does here.
func TestClosingAHandleKeepsTheOtherHandlesLocks(t *testing.T) {
	if _, err := os.Stat("/proc/locks"); err != nil {
		t.Skip("no /proc/locks to read the process's locks from")
	}
	a, b, path := twoHandles(t)
	info, err := os.Stat(path + "-shm")
	if err != nil {
		t.Fatal(err)
	}
	ino := info.Sys().(*syscall.Stat_t).Ino
	holds := func() bool {
		locks, err := os.ReadFile("/proc/locks")
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(locks), "\n") {
			f := strings.Fields(line)
			// "1: POSIX ADVISORY READ <pid> <major>:<minor>:<inode> <start> <end>"
			if len(f) >= 6 && f[1] == "POSIX" && f[4] == strconv.Itoa(os.Getpid()) && strings.HasSuffix(f[5], ":"+strconv.FormatUint(ino, 10)) {
				return true
			}
		}
		return false
	}
	if !holds() {
		t.Fatal("no POSIX lock of this process on the -shm file while two handles hold the database")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if !holds() {
		t.Fatal("closing one handle dropped the -shm locks the other handle's connections hold")
	}
	if _, err := a.IncidentStore().GetIncident(context.Background(), testTenant, "inc_0000000000000000"); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("a read through the handle left open: %v", err)
	}
}

package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/ids"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/pgtest"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
)

// london is far out of range of a responder in lagos.
var london = geo.NewPoint(51.5072, -0.1276)

// holdGroups makes every group slot of db look busy, so that creates
// queue; queued returns once n creates wait, and release sends what
// waits as one group (up to maxGroup).
func holdGroups(t *testing.T, db *DB) (queued func(n int), release func()) {
	t.Helper()
	g := &db.creates
	for held := false; !held; {
		// A group that answered the test's earlier creates frees its slot
		// just after.
		g.mu.Lock()
		if held = g.running == 0; held {
			g.running = groupSlots
		}
		g.mu.Unlock()
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			g.mu.Lock()
			g.running = 1
			g.mu.Unlock()
			go g.drain()
		})
	}
	t.Cleanup(release)
	queued = func(n int) {
		for {
			g.mu.Lock()
			k := len(g.queue)
			g.mu.Unlock()
			if k >= n {
				return
			}
		}
	}
	return queued, release
}

// storedIncident is an incident of the fixture tenant as a create stores
// it, with its created event.
func storedIncident(id string) (*incident.Incident, incident.Effects) {
	now := clock.At(fixtureTime)
	inc := &incident.Incident{ID: id, Category: incident.SOS, Severity: incident.High, Status: incident.Dispatching, Title: "SOS alert",
		Location: incident.IncidentLocation{Coordinates: london}, CreatedAt: now, UpdatedAt: now,
		OrgID: fixtureTenant.OrgID, Environment: fixtureTenant.Env, Sequence: 1}
	ev := fixtureEvent("evt_" + id)
	ev.SubjectID = id
	return inc, incident.Effects{Events: []outbox.Event{ev}}
}

// eventSubjects lists the subjects of db's events, sorted.
func eventSubjects(t *testing.T, db *DB) []string {
	t.Helper()
	subjects, err := queryAll(context.Background(), db.pool, func(row rowScanner) (s string, err error) {
		return s, row.Scan(&s)
	}, `SELECT DISTINCT subject_id FROM outbox_events ORDER BY subject_id`)
	if err != nil {
		t.Fatal(err)
	}
	return subjects
}

// total is the fixture tenant's list total.
func total(t *testing.T, db *DB) int {
	t.Helper()
	_, n, err := db.IncidentStore().ListIncidents(context.Background(), fixtureTenant, incident.Filter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A create that fails in a group (here its incident's id is taken: a
// constraint error; and one with a NUL character, which PostgreSQL's text
// cannot hold) fails alone: the others of its group are committed, with
// their events and their counts, and it writes nothing.
func TestGroupedCreateFailsAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openWithOrg(t, pgtest.URL(t))
	store := db.IncidentStore()
	taken, effects := storedIncident("inc_0000000000000000")
	if _, _, err := store.CreateIncident(ctx, taken, effects); err != nil {
		t.Fatal(err)
	}
	queued, release := holdGroups(t, db)
	const withNUL = "inc_000000000000000d"
	ids := []string{"inc_000000000000000a", "inc_000000000000000b", "inc_0000000000000000", withNUL, "inc_000000000000000c"}
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			inc, effects := storedIncident(id)
			effects.Events[0].ID = fmt.Sprintf("evt_again%d", i) // a new event, so only the incident's id is taken
			if id == withNUL {
				inc.Category = "sos\x00"
			}
			_, _, errs[i] = store.CreateIncident(ctx, inc, effects)
		})
	}
	queued(len(ids))
	release()
	wg.Wait()
	for i, err := range errs {
		switch ids[i] {
		case taken.ID:
			if !setyerr.Is(err, setyerr.Conflict) {
				t.Errorf("create of the taken id %s: %v, want a conflict", ids[i], err)
			}
		case withNUL:
			if !setyerr.Is(err, setyerr.Invalid) {
				t.Errorf("create with a NUL character: %v, want invalid", err)
			}
		default:
			if err != nil {
				t.Errorf("create of %s: %v", ids[i], err)
			}
		}
	}
	if got, want := eventSubjects(t, db), []string{"inc_0000000000000000", "inc_000000000000000a", "inc_000000000000000b", "inc_000000000000000c"}; !slices.Equal(got, want) {
		t.Errorf("events of %v, want %v", got, want)
	}
	var again int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM outbox_events WHERE id LIKE 'evt_again%'`).Scan(&again); err != nil {
		t.Fatal(err)
	}
	if again != 3 {
		t.Errorf("%d events of the group's creates stored, want 3 (the failed creates' none)", again)
	}
	if got := total(t, db); got != 4 {
		t.Errorf("list total %d, want 4", got)
	}
}

// A queued create whose look finds an available responder fails its
// group (the group's one statement of looks names it); it then runs alone
// (and, refused, is ranked and assigned), while the queued creates beside
// it, out of the responders' range, are committed, queued. Two such
// creates in one group each run alone.
func TestGroupedQueuedCreateRefusedAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openWithOrg(t, pgtest.URL(t))
	svc := incident.NewService(db.IncidentStore(), incident.Config{NewID: ids.New, Responders: db.ResponderStore()})
	for _, id := range []string{"rsp_0000000000000001", "rsp_0000000000000002"} {
		if _, err := svc.UpsertResponder(ctx, fixtureTenant, id, incident.ResponderInput{Name: "Unit " + id[len(id)-1:], Location: lagos}); err != nil {
			t.Fatal(err)
		}
	}
	queued, release := holdGroups(t, db)
	at := []geo.Point{london, london, lagos, london, lagos, london}
	got := make([]*incident.Incident, len(at))
	errs := make([]error, len(at))
	var wg sync.WaitGroup
	for i, p := range at {
		wg.Go(func() {
			got[i], _, errs[i] = svc.Create(ctx, fixtureTenant, incident.CreateIncidentRequest{Category: incident.SOS, Location: incident.Location{Coordinates: p}})
		})
	}
	queued(len(at))
	release()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
		want := incident.Dispatching
		if at[i] == lagos {
			want = incident.Assigned
		}
		if got[i].Status != want {
			t.Errorf("create %d at %v: %s, want %s", i, at[i], got[i].Status, want)
		}
		stored, err := db.IncidentStore().GetIncident(ctx, fixtureTenant, got[i].ID)
		if err != nil || stored.Status != want {
			t.Errorf("stored create %d: %v, %v", i, stored, err)
		}
	}
	if n := total(t, db); n != len(at) {
		t.Errorf("list total %d, want %d", n, len(at))
	}
	if n := len(eventSubjects(t, db)); n != len(at) {
		t.Errorf("events of %d incidents, want %d", n, len(at))
	}
	// The log holds each incident's events once, in sequence order.
	events, _, err := (*outboxReader)(db).EventsAfter(ctx, 0, outbox.Filter{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]int64{}
	for _, ev := range events {
		if ev.Sequence != last[ev.SubjectID]+1 {
			t.Errorf("event %s of %s at sequence %d after %d", ev.Type, ev.SubjectID, ev.Sequence, last[ev.SubjectID])
		}
		last[ev.SubjectID] = ev.Sequence
	}
	if len(last) != len(at) {
		t.Errorf("the log holds events of %d incidents, want %d", len(last), len(at))
	}
}

// A caller whose context ends while its create waits for a group gets the
// context's error, and its create is never sent; the slot it would have
// taken is free again.
func TestGroupedCreateGivenUpWhileQueued(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openWithOrg(t, pgtest.URL(t))
	store := db.IncidentStore()
	queued, release := holdGroups(t, db)
	gone, giveUp := context.WithCancel(ctx)
	ended := make(chan error, 1)
	inc, effects := storedIncident("inc_000000000000000a")
	go func() {
		_, _, err := store.CreateIncident(gone, inc, effects)
		ended <- err
	}()
	queued(1)
	giveUp()
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Fatalf("create given up: %v, want context.Canceled", err)
	}
	release()
	if _, err := store.GetIncident(ctx, fixtureTenant, inc.ID); !setyerr.Is(err, setyerr.NotFound) {
		t.Errorf("the given-up create's incident: %v, want not found", err)
	}
	next, effects := storedIncident("inc_000000000000000b")
	if _, _, err := store.CreateIncident(ctx, next, effects); err != nil {
		t.Fatalf("a create after: %v", err)
	}
	if got := eventSubjects(t, db); !slices.Equal(got, []string{next.ID}) {
		t.Errorf("events of %v, want only %s's", got, next.ID)
	}
	if n := total(t, db); n != 1 {
		t.Errorf("list total %d, want 1", n)
	}
}

// Concurrent creates with one idempotency key, from two instances, while
// creates without a key queue for a group in each: one incident, which
// every duplicate is answered with. (Creates with a key never join a
// group: whether the key is taken is decided at their insert.)
func TestGroupedCreatesBesideOneKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	other, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	type answer struct {
		inc   *incident.Incident
		keyed bool
		err   error
	}
	const plain, duplicates = 4, 6 // per instance
	answers := make(chan answer, 2*(plain+duplicates))
	var releases []func()
	for _, db := range []*DB{openWithOrg(t, url), other} {
		queued, release := holdGroups(t, db)
		svc := incident.NewService(db.IncidentStore(), incident.Config{NewID: ids.New, Responders: db.ResponderStore()})
		for i := range plain + duplicates {
			keyed := i >= plain
			go func() {
				req := incident.CreateIncidentRequest{Category: incident.SOS, Location: incident.Location{Coordinates: london}}
				if keyed {
					req.IdempotencyKey = "once"
				}
				inc, _, err := svc.Create(ctx, fixtureTenant, req)
				answers <- answer{inc, keyed, err}
			}()
		}
		queued(plain)
		releases = append(releases, release)
	}
	for _, release := range releases {
		release()
	}
	var once string
	for range 2 * (plain + duplicates) {
		a := <-answers
		switch {
		case a.err != nil:
			t.Fatalf("create (keyed %v): %v", a.keyed, a.err)
		case !a.keyed:
		case once == "":
			once = a.inc.ID
		case a.inc.ID != once:
			t.Errorf("duplicates answered with %s and %s", once, a.inc.ID)
		}
	}
	if n := total(t, other); n != 2*plain+1 {
		t.Errorf("list total %d, want %d", n, 2*plain+1)
	}
	if n := len(eventSubjects(t, other)); n != 2*plain+1 {
		t.Errorf("events of %d incidents, want %d", n, 2*plain+1)
	}
}

// Many concurrent creates, a third of them given up by their callers at
// once, wherever each then is (queued, in a group, committing): every
// create answered nil is stored, a create given up is answered nil only if
// stored, and the list total and the events are exactly the stored
// incidents'.
func TestGroupedCreatesGivenUpUnderLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openWithOrg(t, pgtest.URL(t))
	store := db.IncidentStore()
	const n = 150
	errs := make([]error, n)
	cancels := make([]context.CancelFunc, n)
	var wg sync.WaitGroup
	for i := range n {
		cctx, cancel := context.WithCancel(ctx)
		cancels[i] = cancel
		wg.Go(func() {
			inc, effects := storedIncident(fmt.Sprintf("inc_%016d", i))
			_, _, errs[i] = store.CreateIncident(cctx, inc, effects)
		})
	}
	for i := 0; i < n; i += 3 {
		cancels[i]()
	}
	wg.Wait()
	stored := map[string]bool{}
	for _, id := range eventSubjects(t, db) {
		stored[id] = true
	}
	for i, err := range errs {
		cancels[i]()
		id := fmt.Sprintf("inc_%016d", i)
		switch {
		case err == nil && !stored[id]:
			t.Errorf("create %d answered nil, not stored", i)
		case err != nil && i%3 != 0:
			t.Errorf("create %d (never given up): %v", i, err)
		case err != nil && !errors.Is(err, context.Canceled):
			t.Errorf("create %d given up: %v, want context.Canceled", i, err)
		}
		_, gerr := store.GetIncident(ctx, fixtureTenant, id)
		if (gerr == nil) != stored[id] {
			t.Errorf("incident %d stored %v, its events %v", i, gerr == nil, stored[id])
		}
	}
	if got := total(t, db); got != len(stored) {
		t.Errorf("list total %d, %d incidents stored", got, len(stored))
	}
}

// The one statement of a group's looks fails naming the first look that
// finds an available responder in reach, by its place in the group, and
// passes when none does: the group sends that create alone, the others
// together again.
func TestGroupLooksNameTheRefusedLook(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openWithOrg(t, pgtest.URL(t))
	svc := incident.NewService(db.IncidentStore(), incident.Config{NewID: ids.New, Responders: db.ResponderStore()})
	if _, err := svc.UpsertResponder(ctx, fixtureTenant, "rsp_0000000000000001", incident.ResponderInput{Name: "Unit 1", Location: lagos}); err != nil {
		t.Fatal(err)
	}
	send := func(at ...geo.Point) error {
		looks := make([]*poolLook, len(at))
		for i, p := range at {
			looks[i] = newPoolLook(fixtureTenant, p, 5000)
		}
		b := &pgx.Batch{}
		queueLooks(b, looks)
		return db.pool.SendBatch(ctx, b).Close()
	}
	for _, tc := range []struct {
		at   []geo.Point
		want int // the refused look's index, or -1 for none
	}{
		{[]geo.Point{london, london, lagos, london, lagos}, 2},
		{[]geo.Point{lagos}, 0},
		{[]geo.Point{london, london}, -1},
	} {
		err := send(tc.at...)
		if tc.want < 0 {
			if err != nil {
				t.Errorf("looks at %v: %v, want none refused", tc.at, err)
			}
			continue
		}
		if got := refusedLook(err, len(tc.at)); got != tc.want {
			t.Errorf("looks at %v: refused look %d (%v), want %d", tc.at, got, err, tc.want)
		}
	}
}

// A create of an organization that does not exist fails its group at the
// incidents' statement trigger (migration 0026), which refuses it as the
// foreign key did; every create of the group then runs alone: the others
// are committed, with their one count each, and it writes nothing.
func TestGroupedCreateOfAMissingOrganizationFailsAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openWithOrg(t, pgtest.URL(t))
	store := db.IncidentStore()
	queued, release := holdGroups(t, db)
	const orphan = "inc_000000000000000b"
	ids := []string{"inc_000000000000000a", orphan, "inc_000000000000000c"}
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			inc, effects := storedIncident(id)
			if id == orphan {
				inc.OrgID, effects.Events[0].OrgID = "org_missingmissing00", "org_missingmissing00"
			}
			_, _, errs[i] = store.CreateIncident(ctx, inc, effects)
		})
	}
	queued(len(ids))
	release()
	wg.Wait()
	for i, err := range errs {
		if (ids[i] == orphan) != (err != nil) {
			t.Errorf("create of %s: %v", ids[i], err)
		}
	}
	if pe := (*pgconn.PgError)(nil); !errors.As(errs[1], &pe) || pe.Code != "23503" {
		t.Errorf("create of a missing organization: %v, want the foreign key's SQLSTATE 23503", errs[1])
	}
	if got, want := eventSubjects(t, db), []string{"inc_000000000000000a", "inc_000000000000000c"}; !slices.Equal(got, want) {
		t.Errorf("events of %v, want %v", got, want)
	}
	if got := total(t, db); got != 2 {
		t.Errorf("list total %d, want 2", got)
	}
	var orphans int
	if err := db.pool.QueryRow(ctx, `SELECT coalesce(sum(n), 0) FROM (SELECT n FROM incident_counts WHERE org_id = 'org_missingmissing00'
		UNION ALL SELECT n FROM incident_count_deltas WHERE org_id = 'org_missingmissing00') c`).Scan(&orphans); err != nil || orphans != 0 {
		t.Errorf("counts of the missing organization %d (%v), want 0", orphans, err)
	}
}

// A group's looks see every change committed before their locks were
// granted, whichever tenant's lock the group waited for: here the group
// holds the first tenant's lock while a change of the second tenant, which
// holds that tenant's lock exclusively, puts a responder on duty beside the
// second create and commits. The looks' snapshot is taken once every lock
// of the group is granted (migration 0027), so the second create is
// refused, and never queued beside a free responder.
func TestGroupLooksSeeAChangeCommittedWhileTheyWaited(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openWithOrg(t, pgtest.URL(t))
	other := addSecondOrg(t, db, "Other")
	if _, err := db.pool.Exec(ctx, `INSERT INTO responders (id, org_id, environment, name, lng, lat, pos, status, updated_at)
		VALUES ('rsp_0000000000000001', $1, 'live', 'Unit 1', $2, $3, cube($4::float8[]), 'offline', now())`,
		other.OrgID, lagos.Lng(), lagos.Lat(), onSphere(lagos)); err != nil {
		t.Fatal(err)
	}
	change, err := db.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer change.Rollback(ctx)
	if _, err := change.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockPoolOf, other.OrgID); err != nil {
		t.Fatal(err)
	}
	if _, err := change.Exec(ctx, `UPDATE responders SET status = 'available' WHERE org_id = $1`, other.OrgID); err != nil {
		t.Fatal(err)
	}
	looked := make(chan error, 1)
	go func() {
		b := &pgx.Batch{}
		queueLooks(b, []*poolLook{newPoolLook(fixtureTenant, lagos, 5000), newPoolLook(other, lagos, 5000)})
		looked <- db.pool.SendBatch(ctx, b).Close()
	}()
	if !untilWaiting(t, db.pool, 1, nil) {
		t.Fatal("the looks never waited")
	}
	if err := change.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-looked; refusedLook(err, 2) != 1 {
		t.Fatalf("looks: %v, want the second refused", err)
	}
}

// Once every caller of a group in flight has given up, its statements are
// cancelled: here the group waits on a lock another transaction holds,
// and its callers, all given up, are answered their context's error
// without that transaction ending; nothing is stored.
func TestGroupCancelledOnceEveryCallerGaveUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openWithOrg(t, pgtest.URL(t))
	store := db.IncidentStore()
	blocker, err := db.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Rollback(ctx)
	if _, err := blocker.Exec(ctx, `LOCK TABLE outbox_events IN EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	queued, release := holdGroups(t, db)
	const n = 3
	ended := make(chan error, n)
	cancels := make([]context.CancelFunc, n)
	for i := range n {
		cctx, cancel := context.WithCancel(ctx)
		cancels[i] = cancel
		inc, effects := storedIncident(fmt.Sprintf("inc_%016d", i))
		go func() {
			_, _, err := store.CreateIncident(cctx, inc, effects)
			ended <- err
		}()
	}
	queued(n)
	release()
	for waiting := false; !waiting; { // the group's insert waits for the lock
		if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_locks
			WHERE NOT granted AND relation = 'outbox_events'::regclass)`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
	}
	for _, cancel := range cancels {
		cancel()
	}
	for range n {
		if err := <-ended; !errors.Is(err, context.Canceled) {
			t.Errorf("a create given up in its group: %v, want context.Canceled", err)
		}
	}
	if err := blocker.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got := eventSubjects(t, db); len(got) != 0 {
		t.Errorf("events of %v, want none", got)
	}
	if got := total(t, db); got != 0 {
		t.Errorf("list total %d, want 0", got)
	}
}

package sqlite

import (
	"context"
	"slices"
	"sort"

	"github.com/sety-io/sety/internal/groupcommit"
)

// How a get answers from a kept incident without reading its row, and
// stays exact.
//
// incident_stamp.n (migrations/0021_incident_stamp.sql) moves by one for
// every incidents row any transaction of any process inserts, updates or
// deletes: triggers move it, so no write path can leave it behind, and a
// rolled-back change takes its numbers back. This process's writer also
// counts, on its own connection, the rows each batch changed and which
// (temporary triggers into temp.incident_changes, below): just before
// COMMIT it takes them and reads the stamp, so it knows that its commit
// holds the numbers (n-k, n] and which incidents they changed, and records
// that once COMMIT has returned, before any caller of the batch is
// answered (stampLog.commits, the last maxCommits commits).
//
// A decoded incident is kept with the stamp its row was read at (one
// statement reads both). A get that finds one waits for a check that
// began after it arrived: one read of the stamp, c, shared by every get
// waiting meanwhile (stampcheck.go). Before answering, the check brings
// the kept incidents up to c: for each number in (valid, c] in order, a
// commit of this process un-keeps what it changed; a number no commit of
// this process holds is another process's change (or one of this
// process's lost from the log), and un-keeps every incident read before
// it (floor). A number of the commit this writer is making now, between
// the stamp read and the record, stops the walk: the gets of that check
// read their rows, and the next check goes on. A kept incident answers a
// get when nothing un-kept it up to c; otherwise the get reads its row
// (and keeps it with the stamp it was read at). So a get reflects every
// write acknowledged before it began, by any process: such a write's
// numbers are at or below c.

// maxCommits bounds the commits of this process recorded. A check that
// finds the numbers it must walk gone from the log takes them for another
// process's: everything kept before them is read again.
const maxCommits = 4096

// changesSetup makes, on the writer's connection, the table its temporary
// triggers note every incident a transaction changes in, one row per row
// change (as many as the stamp moved by). Temporary: it lives with the
// connection, is seen by no other, and is rolled back with a savepoint or
// a batch like any table.
var changesSetup = []string{
	`CREATE TEMP TABLE IF NOT EXISTS incident_changes (id TEXT NOT NULL)`,
	`CREATE TEMP TRIGGER IF NOT EXISTS incident_changes_insert AFTER INSERT ON main.incidents BEGIN
		INSERT INTO incident_changes (id) VALUES (new.id);
	END`,
	`CREATE TEMP TRIGGER IF NOT EXISTS incident_changes_update AFTER UPDATE ON main.incidents BEGIN
		INSERT INTO incident_changes (id) VALUES (new.id);
	END`,
	`CREATE TEMP TRIGGER IF NOT EXISTS incident_changes_delete AFTER DELETE ON main.incidents BEGIN
		INSERT INTO incident_changes (id) VALUES (old.id);
	END`,
}

const (
	takeChanges = `DELETE FROM temp.incident_changes RETURNING id`
	readStamp   = `SELECT n FROM main.incident_stamp WHERE id = 1`
)

// stampCommit is one commit of this process that changed incidents: it
// holds the stamp's numbers (from, to], and changed ids.
type stampCommit struct {
	from, to int64
	ids      []string
}

// stampLog is what the kept incidents are checked against (guarded by
// decodedIncidents.mu).
type stampLog struct {
	commits []stampCommit // in stamp order, at most 2 × maxCommits
	pending stampCommit   // the writer's commit under way (to == 0: none)

	// valid is the number up to which every change was applied to the
	// kept incidents: one kept with a stamp at or below it is its row's
	// text at valid.
	valid int64
	// floor: an incident kept with a stamp below it was read before
	// another process's change, and answers no get.
	floor int64
}

// watchChanges sets up the change notes on the writer's connection and
// has the writer record every commit that changed incidents.
func (db *DB) watchChanges(ctx context.Context) error {
	err := db.w.Do(ctx, func(tx *groupcommit.Tx) error {
		for _, q := range changesSetup {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return translate(err)
	}
	db.w.OnCommit(db.decoded.beforeCommit)
	return nil
}

// beforeCommit is the writer's commit hook: it takes the incidents the
// batch changed and the stamp's numbers they hold, marks them pending, and
// records them once COMMIT has succeeded.
func (c *decodedIncidents) beforeCommit(tx *groupcommit.Tx) (func(bool), error) {
	if r := c.reader.Load(); r != nil {
		r.committing() // its snapshot would keep this commit from starting the log over
	}
	ctx := context.Background()
	rows, err := tx.Hot().QueryContext(ctx, takeChanges)
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil // no incident changed: nothing to record
	}
	var to int64
	if err := tx.Hot().QueryRowContext(ctx, readStamp).Scan(&to); err != nil {
		return nil, err
	}
	slices.Sort(ids)
	commit := stampCommit{from: to - int64(len(ids)), to: to, ids: slices.Compact(ids)}
	c.mu.Lock()
	c.log.pending = commit
	c.mu.Unlock()
	return func(committed bool) { c.record(commit, committed) }, nil
}

// record ends the pending commit: committed, it joins the log. A commit
// whose numbers do not follow the last recorded one's is left out (its
// numbers then read as another process's).
func (c *decodedIncidents) record(commit stampCommit, committed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.log.pending = stampCommit{}
	if !committed {
		return
	}
	l := &c.log
	if n := len(l.commits); n > 0 && commit.from < l.commits[n-1].to {
		return
	}
	if len(l.commits) >= 2*maxCommits {
		l.commits = append(l.commits[:0], l.commits[len(l.commits)-maxCommits:]...)
	}
	l.commits = append(l.commits, commit)
	// Un-kept now as well as by the next check's walk: the next get of a
	// changed incident then goes straight to its row, with no check
	// before the read. (Un-keeping is always safe.)
	c.unkeep(commit)
}

// unkeep un-keeps the incidents commit changed that were read before it.
// c.mu is held.
func (c *decodedIncidents) unkeep(commit stampCommit) {
	for _, id := range commit.ids {
		if kept, ok := c.byID[id]; ok && kept.at != 0 && kept.at < commit.to {
			kept.at = 0
			c.byID[id] = kept
		}
	}
}

// advance applies the changes up to stamp to the kept incidents (the walk
// the comment at the top describes), and reports whether it found numbers
// that no recorded commit of this process holds. c.mu is held.
func (c *decodedIncidents) advance(stamp int64) (foreign bool) {
	l := &c.log
	x := l.valid
	if stamp <= x {
		return false
	}
	i := sort.Search(len(l.commits), func(i int) bool { return l.commits[i].to > x })
	for x < stamp {
		if p := l.pending; p.to != 0 && p.from <= x && x < p.to {
			break // this writer's commit, not recorded yet
		}
		if i < len(l.commits) && l.commits[i].from <= x {
			commit := l.commits[i]
			c.unkeep(commit)
			x = commit.to
			i++
			continue
		}
		// Another process's numbers, up to this process's next commit.
		next := stamp
		if i < len(l.commits) {
			next = min(next, l.commits[i].from)
		}
		if p := l.pending; p.to != 0 && p.from > x {
			next = min(next, p.from)
		}
		l.floor = max(l.floor, next)
		x = next
		foreign = true
	}
	l.valid = x
	return foreign
}

// fresh returns the incident kept for id if a check that read stamp
// allows it to answer for the tenant (org, env).
func (c *decodedIncidents) fresh(id, org, env string, stamp int64) (decodedIncident, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept, ok := c.byID[id]
	if !ok || kept.at == 0 || kept.at < c.log.floor || kept.row.OrgID != org || kept.row.Environment != env {
		return decodedIncident{}, false
	}
	if kept.at < stamp && c.log.valid < stamp {
		return decodedIncident{}, false // a change up to stamp is not accounted for yet
	}
	return kept, true
}

// freshAlone is fresh for a handle alone on the file (alone.go): every
// number since the stamp was last read is this process's, so the kept
// incidents are brought up to the last commit it recorded, in memory. It
// reports numbers that no recorded commit holds (foreign): a writer that
// takes no part in the handles' locks, whose changes un-keep what was
// read before them.
func (c *decodedIncidents) freshAlone(id, org, env string) (kept decodedIncident, ok, foreign bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := &c.log
	stamp := l.valid
	if n := len(l.commits); n > 0 && l.commits[n-1].to > stamp {
		stamp = l.commits[n-1].to
		foreign = c.advance(stamp)
	}
	kept, ok = c.byID[id]
	if !ok || kept.at == 0 || kept.at < l.floor || kept.row.OrgID != org || kept.row.Environment != env ||
		kept.at < stamp && l.valid < stamp {
		return decodedIncident{}, false, foreign
	}
	return kept, true, foreign
}

// candidate says whether a check could let the incident kept for id
// answer a get of the tenant (org, env).
func (c *decodedIncidents) candidate(id, org, env string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept, ok := c.byID[id]
	return ok && kept.at != 0 && kept.at >= c.log.floor && kept.row.OrgID == org && kept.row.Environment == env
}

// stampable says whether a row read at stamp at may be kept as read then:
// whether every change up to it still reaches it. c.mu is held.
func (c *decodedIncidents) stampable(at int64) bool {
	return at >= c.log.valid && at >= c.log.floor
}

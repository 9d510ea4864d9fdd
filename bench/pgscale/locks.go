package main

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// lockSampler reads pg_stat_activity and pg_locks every interval while a
// round runs: what the database's backends of Sety wait for.
type lockSampler struct {
	mu      sync.Mutex
	samples int
	active  int            // backends running a statement, summed over samples
	waits   map[string]int // wait_event_type:wait_event -> backends seen waiting
	locks   map[string]int // lock type and statement of backends waiting for a lock
	// sweeps counts, by application_name (the instance), the backends seen
	// running one of the engine's sweep statements (sweepDue, sweepLock, sweepUpdate).
	sweeps map[string]int
	err    error // that ended the sampling early
}

// sampleQuery lists the active backends of the database but this one, with
// what each waits for (for a heavyweight lock, wait_event is the lock's
// type: advisory, transactionid, tuple, extend...) and the waiting
// backend's locks that pg_locks shows not granted (the lock it waits for),
// to confirm the type; for an advisory lock, its key (classid/objid/
// objsubid: 53455459/3/1 is the sequencer's, 53455459/4/1 the webhook
// claim's, objsubid 2 a two-key lock of a class); the backend's
// application_name (the instance: see bench.run); and which of the
// engine's sweep statements it runs, if any (the whole statement is
// searched: its first 60 characters do not tell an incident's lock from
// a read of it).
const sampleQuery = `SELECT coalesce(a.wait_event_type, ''), coalesce(a.wait_event, ''),
	coalesce((SELECT string_agg(l.locktype || CASE WHEN l.locktype = 'advisory'
		THEN ' key ' || to_hex(l.classid::bigint) || '/' || l.objid || '/' || l.objsubid ELSE '' END, ',')
		FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted), ''),
	left(regexp_replace(a.query, '\s+', ' ', 'g'), 60),
	a.application_name,
	CASE WHEN a.query LIKE '%FROM incidents%due_at <=%' THEN '` + sweepDue + `'
		WHEN a.query LIKE '%FROM incidents%FOR NO KEY UPDATE%' THEN '` + sweepLock + `'
		WHEN a.query LIKE 'UPDATE incidents%' THEN '` + sweepUpdate + `'
		ELSE '' END
FROM pg_stat_activity a
WHERE a.datname = current_database() AND a.state = 'active' AND a.pid <> pg_backend_pid()`

// sampleLocks samples on conn every interval until stop is called, which
// returns once the last sample is in. A sample's query is never cut short
// (pgx closes a connection whose query's context ends).
func sampleLocks(conn *pgx.Conn, interval time.Duration) (s *lockSampler, stop func()) {
	s = &lockSampler{waits: map[string]int{}, locks: map[string]int{}, sweeps: map[string]int{}}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
			}
			if err := s.sample(conn); err != nil {
				s.mu.Lock()
				s.err = err
				s.mu.Unlock()
				return
			}
		}
	}()
	return s, func() { close(quit); <-done }
}

func (s *lockSampler) sample(conn *pgx.Conn) error {
	rows, err := conn.Query(context.Background(), sampleQuery)
	if err != nil {
		return err
	}
	defer rows.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples++
	for rows.Next() {
		var typ, event, lock, query, app, sweep string
		if err := rows.Scan(&typ, &event, &lock, &query, &app, &sweep); err != nil {
			return err
		}
		s.active++
		if sweep != "" {
			s.sweeps[app]++
			query = sweep // a lock wait here is a sweep's, whatever its first characters
		}
		if typ != "" {
			s.waits[typ+":"+event]++
		}
		if typ == "Lock" {
			if lock != "" && lock != event {
				event += " (pg_locks: " + lock + ")"
			}
			s.locks[event+" ← "+query]++
		}
	}
	return rows.Err()
}

// The engine's sweep statements, as the samples name them: its look-up of
// due incidents, and an incident's lock and update (the drill's step).
const (
	sweepDue    = "sweep: due incidents"
	sweepLock   = "sweep: lock an incident"
	sweepUpdate = "sweep: update an incident"
)

// onSweep tells whether a sampled statement is one of the engine's sweeps'.
func onSweep(statement string) bool { return strings.HasPrefix(statement, "sweep: ") }

// onCreatePath tells whether a statement is part of a create's transaction:
// its inserts (the count delta's through the incidents' trigger; a
// group's incidents and events are one statement, WITH inserted_incidents),
// and its COMMIT. (BEGIN is not: every transaction's first statement, the fan-out's
// too, shows it while the next waits.)
func onCreatePath(statement string) bool {
	for _, p := range []string{"INSERT INTO incidents", "INSERT INTO outbox_events", "WITH inserted_incidents", "INSERT INTO incident_count_deltas", "COMMIT"} {
		if strings.HasPrefix(statement, p) {
			return true
		}
	}
	return false
}

// report summarizes the samples: the active backends on average, the most
// frequent waits, and the lock waits, marked when on the create path; and
// counts the create path's lock waits by lock type.
func (s *lockSampler) report() (summary string, createPath map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	createPath = map[string]int{}
	if s.samples == 0 || s.err != nil {
		return fmt.Sprintf("sampling failed after %d samples: %v", s.samples, s.err), createPath
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d samples, %.1f active backends on average; waits (backends × samples):", s.samples, float64(s.active)/float64(s.samples))
	for _, w := range top(s.waits, 5) {
		fmt.Fprintf(&b, " %s %d,", w, s.waits[w])
	}
	lockWaits, onPath := 0, 0
	for l, n := range s.locks {
		lockWaits += n
		if typ, statement, _ := strings.Cut(l, " ← "); onCreatePath(statement) {
			typ, _, _ = strings.Cut(typ, " ")
			createPath[typ] += n
			onPath += n
		}
	}
	fmt.Fprintf(&b, " lock waits %d (%d on the create path)", lockWaits, onPath)
	shown := top(s.locks, 4)
	for l := range s.locks {
		if _, statement, _ := strings.Cut(l, " ← "); onCreatePath(statement) && !slices.Contains(shown, l) {
			shown = append(shown, l) // every wait on the create path
		}
	}
	for _, l := range shown {
		mark := ""
		if _, statement, _ := strings.Cut(l, " ← "); onCreatePath(statement) {
			mark = " [create path]"
		}
		fmt.Fprintf(&b, "\n      %5d × %s%s", s.locks[l], l, mark)
	}
	return b.String(), createPath
}

// top returns the n keys of m with the largest counts.
func top(m map[string]int, n int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	return keys[:min(n, len(keys))]
}

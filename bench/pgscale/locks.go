package main

import (
	"context"
	"fmt"
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
}

// sampleQuery lists the active backends of the database but this one, with
// what each waits for and, when that is a heavyweight lock, its type.
const sampleQuery = `SELECT coalesce(a.wait_event_type, ''), coalesce(a.wait_event, ''),
	coalesce((SELECT l.locktype FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted LIMIT 1), ''),
	left(regexp_replace(a.query, '\s+', ' ', 'g'), 60)
FROM pg_stat_activity a
WHERE a.datname = current_database() AND a.state = 'active' AND a.pid <> pg_backend_pid()`

// sample samples on conn every interval until ctx ends.
func sampleLocks(ctx context.Context, conn *pgx.Conn, interval time.Duration) *lockSampler {
	s := &lockSampler{waits: map[string]int{}, locks: map[string]int{}}
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			rows, err := conn.Query(ctx, sampleQuery)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.samples++
			for rows.Next() {
				var typ, event, lock, query string
				if err := rows.Scan(&typ, &event, &lock, &query); err != nil {
					break
				}
				s.active++
				if typ != "" {
					s.waits[typ+":"+event]++
				}
				if typ == "Lock" {
					s.locks[lock+" ← "+query]++
				}
			}
			rows.Close()
			s.mu.Unlock()
		}
	}()
	return s
}

// createPath tells whether a statement is part of a create's transaction:
// its inserts, and its BEGIN and COMMIT.
func createPath(statement string) bool {
	for _, p := range []string{"INSERT INTO incidents", "INSERT INTO outbox_events", "INSERT INTO incident_count_deltas", "BEGIN", "COMMIT"} {
		if strings.HasPrefix(statement, p) {
			return true
		}
	}
	return false
}

// report summarizes the samples: the active backends on average, the most
// frequent waits, and every lock wait, marked when on the create path.
func (s *lockSampler) report() (summary string, createPathLockWaits int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.samples == 0 {
		return "no samples", 0
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d samples, %.1f active backends on average; waits (backends × samples):", s.samples, float64(s.active)/float64(s.samples))
	for _, w := range top(s.waits, 5) {
		fmt.Fprintf(&b, " %s %d,", w, s.waits[w])
	}
	lockWaits := 0
	for l, n := range s.locks {
		lockWaits += n
		if _, statement, _ := strings.Cut(l, " ← "); createPath(statement) {
			createPathLockWaits += n
		}
	}
	fmt.Fprintf(&b, " lock waits %d (%d on the create path)", lockWaits, createPathLockWaits)
	for _, l := range top(s.locks, 4) {
		mark := ""
		if _, statement, _ := strings.Cut(l, " ← "); createPath(statement) {
			mark = " [create path]"
		}
		fmt.Fprintf(&b, "\n      %5d × %s%s", s.locks[l], l, mark)
	}
	return b.String(), createPathLockWaits
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

package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgStore is the durable baseline on PostgreSQL (-pg): what a skilled
// engineer who keeps an incident and the event webhooks read of it on
// PostgreSQL would write without Sety, the floor under any durable create
// there and the question of issue 24 asked of it: does a second instance
// add creates/s on this machine? A create is one JSON row (primary key
// only) and one event row; creates queue, and one goroutine at a time
// sends up to maxGroup queued ones as one implicit transaction (pgx's
// SendBatch: one pipeline, one Sync) of two multi-row INSERTs from
// arrays, then answers each of them (with -pg-commits N, N such
// goroutines: up to N groups in flight). No counts, no locks, no dispatch.
// Durability is the cluster's: a commit returns once its WAL is flushed
// (synchronous_commit on, the default).
type pgStore struct {
	pool *pgxpool.Pool

	mu    sync.Mutex
	queue []*pgCreate
	wake  chan struct{}  // capacity 1: something is queued
	quit  chan struct{}  // closed by Close
	done  sync.WaitGroup // the group goroutines

	groups, creates atomic.Int64 // committed, for /debug/groups
	commitNanos     atomic.Int64 // wall time of the committed groups' SendBatch, from its send to its result read
}

// maxGroup is the most creates one transaction carries: one per client at
// the benchmarks' 64 clients.
const maxGroup = 64

type pgCreate struct {
	id, doc, evID, data string
	at                  int64
	done                chan error // capacity 1: the group's outcome
}

// The doc is text, not jsonb, so a get answers it byte for byte as
// stored (jsonb reorders keys), as the SQLite durable baseline does.
// The script runs as one implicit transaction (one simple-protocol
// query) under an advisory lock: instances that start together on one
// database would otherwise race in CREATE TABLE IF NOT EXISTS, and the
// loser fail on pg_type's unique index.
const pgSchema = `
SELECT pg_advisory_xact_lock(5345545900);
CREATE TABLE IF NOT EXISTS incidents (
    id  text PRIMARY KEY,
    doc text NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    position   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         text NOT NULL,
    subject_id text NOT NULL,
    data       text NOT NULL,
    created_at bigint NOT NULL
)`

const (
	insertIncidents = `INSERT INTO incidents (id, doc) SELECT * FROM unnest($1::text[], $2::text[])`
	insertEvents    = `INSERT INTO events (id, subject_id, data, created_at) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])`
)

// openPG connects to url (pgx's URL, pool_max_conns and all), creates the
// two tables if absent and starts commits group goroutines (at least one):
// as many groups in flight at most. Each holds one of the pool's
// connections while it commits.
func openPG(ctx context.Context, url string, commits int) (*pgStore, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, err
	}
	if _, err := pool.Exec(ctx, pgSchema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("schema: %w", err)
	}
	s := &pgStore{pool: pool, wake: make(chan struct{}, 1), quit: make(chan struct{})}
	for range max(1, commits) {
		s.done.Go(s.run)
	}
	return s, nil
}

// create queues the incident's rows and returns once the transaction that
// carried them has committed. A caller that gives up still leaves them
// queued: its group's outcome is the others' too.
func (s *pgStore) create(ctx context.Context, inc *incident, now time.Time) error {
	doc, data, evID, err := rowsOf(inc)
	if err != nil {
		return err
	}
	c := &pgCreate{id: inc.ID, doc: string(doc), evID: evID, data: string(data), at: now.UnixMilli(), done: make(chan error, 1)}
	s.mu.Lock()
	s.queue = append(s.queue, c)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default: // already woken
	}
	select {
	case err := <-c.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run sends the queue's creates, up to maxGroup a transaction, until
// Close; what is queued when Close comes is sent first.
func (s *pgStore) run() {
	for {
		select {
		case <-s.wake:
		case <-s.quit:
			for s.flush() {
			}
			return
		}
		for s.flush() {
		}
	}
}

// flush commits the oldest queued creates as one group and answers them;
// false when the queue was empty.
func (s *pgStore) flush() bool {
	s.mu.Lock()
	n := min(len(s.queue), maxGroup)
	group := slices.Clone(s.queue[:n])
	rest := copy(s.queue, s.queue[n:])
	clear(s.queue[rest:]) // no answered create stays reachable
	s.queue = s.queue[:rest]
	s.mu.Unlock()
	if n == 0 {
		return false
	}
	start := time.Now()
	err := s.commit(group)
	if err == nil {
		s.commitNanos.Add(int64(time.Since(start)))
		s.groups.Add(1)
		s.creates.Add(int64(n))
	}
	for _, c := range group {
		c.done <- err
	}
	return true
}

// commit sends the group's two inserts in one pipeline, an implicit
// transaction committed at its Sync. Its context is its own: no one
// caller's cancel may undo the others' creates.
func (s *pgStore) commit(group []*pgCreate) error {
	ids, docs := make([]string, len(group)), make([]string, len(group))
	evIDs, data, at := make([]string, len(group)), make([]string, len(group)), make([]int64, len(group))
	for i, c := range group {
		ids[i], docs[i], evIDs[i], data[i], at[i] = c.id, c.doc, c.evID, c.data, c.at
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := &pgx.Batch{}
	b.Queue(insertIncidents, ids, docs)
	b.Queue(insertEvents, evIDs, ids, data, at)
	return s.pool.SendBatch(ctx, b).Close()
}

// get returns the incident's stored JSON; nil when there is none.
func (s *pgStore) get(ctx context.Context, id string) ([]byte, error) {
	var doc []byte
	err := s.pool.QueryRow(ctx, `SELECT doc FROM incidents WHERE id = $1`, id).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return doc, err
}

// stats are the groups committed so far, the creates they carried and
// the wall time their commits took (building the arrays, the pipeline's
// round trip and WAL flush, reading its results), in nanoseconds.
func (s *pgStore) stats() (groups, creates, commitNanos int64) {
	return s.groups.Load(), s.creates.Load(), s.commitNanos.Load()
}

// Close sends what is queued and closes the pool.
func (s *pgStore) Close() error {
	close(s.quit)
	s.done.Wait()
	s.pool.Close()
	return nil
}

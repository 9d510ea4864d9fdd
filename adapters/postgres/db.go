package postgres

import (
	"context"
	"embed"
	"fmt"
	"math"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Advisory lock keys ("SETY" and a number): the migration's, held across
// the whole migration by one session; the sequencer's, held by one
// transaction at a time that gives committed events their log positions
// (outbox_sequence, migration 0014, spells the same number) and fans them
// out; the webhook claim's, held by one claim transaction at a time. None
// is taken on the write path. They are per database: two Sety schemas in
// one database share them, which costs waiting, never correctness. (Key
// 2 was the outbox lock every writer of events took until migration 0014.)
const (
	lockMigrate   int64 = 0x5345_5459_0000_0001
	lockSequencer int64 = 0x5345_5459_0000_0003
	lockClaim     int64 = 0x5345_5459_0000_0004
)

// Classes of the two-key advisory locks (pg_advisory_xact_lock(class,
// hashtext(name))), whose key space is apart from the one-key locks'.
const (
	lockCodeDigits int32 = 0x5345_5401 + iota // a tenant's code digits: CreateCode
	lockSite                                  // a tenant's site: the failure count of validation
	lockRate                                  // a tenant's rate-limit budget: TakeLease
	lockNamed                                 // DB.Exclusive's session locks
	lockPoolOf                                // a live tenant's responder pool (pool.go)
)

// lockName takes the transaction-scoped advisory lock of class on name.
// Two names with one 32-bit hash share a lock: that costs waiting, never
// correctness.
func lockName(ctx context.Context, tx *txn, class int32, name string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, class, name)
	return err
}

// DB is a Sety database on PostgreSQL. It implements sety.Stores; any
// number of DBs, in any number of processes, may share one database.
type DB struct {
	sharedStores         // every port: written once in sqlstore where the SQL is the same
	drv          *driver // the database as sqlstore uses it (driver.go)

	pool      *pgxpool.Pool
	own       bool   // Close closes the pool
	sequencer flight // this process's runs of the sequencer (see sequence)
	creates   group  // the group commit of creates (group.go)
}

// Open connects to the database at url (postgres://user:pass@host/db?...,
// or any connection string pgx accepts, pool settings included), applies
// pending migrations and returns the stores. Close closes the pool.
//
// The pool opens at most DefaultPoolSize connections unless url sets
// pool_max_conns.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = int32(DefaultPoolSize())
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db, err := New(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	db.own = true
	return db, nil
}

// Migrate applies pending migrations to the database at url and
// disconnects: for a deployment step that migrates before the servers
// start (they would migrate at Open anyway, one at a time).
func Migrate(ctx context.Context, url string) error {
	db, err := Open(ctx, url)
	if err != nil {
		return err
	}
	return db.Close()
}

// New returns the stores over a pool the caller made (and closes), after
// applying pending migrations through it.
func New(ctx context.Context, pool *pgxpool.Pool) (*DB, error) {
	db := &DB{pool: pool}
	db.wire()
	if err := db.migrate(ctx); err != nil {
		return nil, err
	}
	return db, nil
}

// Close closes the pool if Open made it.
func (db *DB) Close() error {
	if db.own {
		db.pool.Close()
	}
	return nil
}

// Exclusive runs fn while holding a session advisory lock named name,
// which every DB over the database takes for that name: one instance at a
// time runs fn. (The example server bootstraps an empty database under it,
// so servers started together create one organization.)
func (db *DB) Exclusive(ctx context.Context, name string, fn func(context.Context) error) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return translate(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, hashtext($2))`, lockNamed, name); err != nil {
		return translate(err)
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, hashtext($2))`, lockNamed, name); err != nil {
			conn.Conn().Close(context.WithoutCancel(ctx)) // ends the session, and the lock with it
		}
	}()
	return fn(ctx)
}

// DefaultPoolSize is how many connections Open's pool opens at most when
// the URL does not say (pool_max_conns): 8 per CPU Go may use, at least
// 16. pgx's own default (4, or one per CPU) left 28 of 32 concurrent
// creates of a 2-core server waiting for a connection while PostgreSQL had
// CPU to spare: a create holds its connection for its commit's WAL flush,
// which needs no CPU, and PostgreSQL commits the flushes of concurrent
// transactions together. Every instance opens its own pool: mind
// PostgreSQL's max_connections (100 by default).
func DefaultPoolSize() int { return max(16, 8*runtime.GOMAXPROCS(0)) }

// PoolStats says how many connections the pool may open and has lent out,
// and how many times, and for how long in all, callers waited for one
// because none was idle (sety.WithMetrics serves them as
// sety_store_pool_*).
func (db *DB) PoolStats() (maxConns, inUse int, waits int64, waited time.Duration) {
	s := db.pool.Stat()
	return int(s.MaxConns()), int(s.AcquiredConns()), s.EmptyAcquireCount(), s.EmptyAcquireWaitTime()
}

// Pool returns the connection pool, for a host that wants to run its own
// queries or read pool statistics.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return translate(db.pool.QueryRow(ctx, "SELECT 1").Scan(&one))
}

// wire builds the stores: those written once in sqlstore, over the
// driver, and this engine's own.
func (db *DB) wire() {
	db.drv = &driver{db: db, read: querierOf{db.pool}}
	db.creates.db = db
	db.sharedStores = sqlstore.NewStores(db.drv, sqlstore.Own{
		Incidents:  &incidentStore{Incidents: sqlstore.NewIncidents(db.drv, sqlstore.ScanIncident, applyShared), db: db},
		Responders: &responderStore{Responders: sqlstore.NewResponders(db.drv), db: db},
		Queue:      &webhookQueue{Queue: sqlstore.NewQueue(db.drv), db: db},
		Outbox:     (*outboxReader)(db),
	})
}

// migrate applies every embedded migration the database lacks, each in its
// own transaction with its version record. The whole run holds a session
// advisory lock, so instances starting together migrate one after another:
// the first applies, the others find every version recorded.
func (db *DB) migrate(ctx context.Context) error { return db.migrateUpTo(ctx, math.MaxInt) }

// migrateUpTo applies the migrations the database lacks up to version last
// (upgrade tests build an older release's database with it).
func (db *DB) migrateUpTo(ctx context.Context, last int) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockMigrate); err != nil {
		return fmt.Errorf("postgres: lock for migration: %w", err)
	}
	defer func() {
		// A failed unlock (a broken connection) ends the session, and the
		// lock with it: the connection is dropped, not reused, below.
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockMigrate); err != nil {
			conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("postgres: create schema_migrations: %w", err)
	}
	files, err := sqlstore.Migrations(migrations)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	for _, m := range files {
		if m.Version > last {
			break
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			var applied bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.Version).Scan(&applied); err != nil || applied {
				return err
			}
			// No arguments: the simple protocol, which runs every statement of the file.
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("postgres: migration %s: %w", m.Name, err)
			}
			// applied_at is a record of when, not domain data: the database's clock is fine.
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

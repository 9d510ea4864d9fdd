package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/internal/groupcommit"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options tune Open. The zero value is the production setting.
type Options struct {
	// BusyTimeout is how long a write waits for another process's lock.
	// Default 5 s.
	BusyTimeout time.Duration
	// Synchronous is SQLite's synchronous pragma: "FULL" (default) survives
	// power loss; "NORMAL" survives process crashes only and writes faster.
	Synchronous string
	// Readers caps the read pool. Default: 2 × GOMAXPROCS, at least 4.
	Readers int
	// WALSizeLimit is SQLite's journal_size_limit for the writer: when the
	// write-ahead log starts over after a checkpoint, its file is cut back
	// to this many bytes. The file otherwise keeps the size of the longest
	// stretch between two restarts (under a steady load of 200 requests a
	// second it grew past 500 MB in five minutes and never shrank while the
	// server ran). A log longer than this is also made to start over by
	// the checkpointer: through a checkpoint the writer runs between two
	// batches, or, should a reader keep the log from starting over, a
	// RESTART checkpoint, which holds the writer back for at most 100 ms.
	// Default DefaultWALSizeLimit; negative: no limit.
	WALSizeLimit int64

	// aloneEvery is how often the handle polls the instances file
	// (alone.go): 0 alonePoll; negative, only when a test says.
	aloneEvery time.Duration
}

// DefaultWALSizeLimit is the size the write-ahead log is cut back to when
// it starts over (Options.WALSizeLimit): room for a few seconds of writes
// at full speed, so a busy database rarely grows it again.
const DefaultWALSizeLimit = 64 << 20

// DB is a Sety database in one SQLite file. It implements sety.Stores.
type DB struct {
	sharedStores         // every port: written once in sqlstore where the SQL is the same
	drv          *driver // the database as sqlstore uses it (driver.go)

	write *sql.DB             // one connection: SQLite's single writer, held by w
	w     *groupcommit.Writer // runs every write transaction, in batches (internal/groupcommit)
	read  *readPool           // a pool for reads, its queries prepared once (readpool.go)
	peek  *peekReaders        // the connections of get-incident's row read (peekread.go)
	// stamps are the incident stamp's checks the gets share (stampcheck.go)
	stamps *stampChecks

	decoded *decodedIncidents // incidents read lately, decoded (decoded.go)

	presence *presence // whether the handle is alone on the file (alone.go)

	available availability // which tenants have an available responder, as the writer knows (available.go)

	checkpoints *groupcommit.Checkpointer // copies the WAL into the file, off the writer

	dsn string // how to open another connection to the file (Backup)

	// radiusHint remembers, per tenant, which search box answered the last
	// nearest-responder search (an index into searchRadii).
	radiusHint sync.Map
}

// Open opens (creating if needed) the database at path and applies pending
// migrations.
func Open(ctx context.Context, path string, opts *Options) (*DB, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 5 * time.Second
	}
	switch strings.ToUpper(o.Synchronous) {
	case "":
		o.Synchronous = "FULL"
	case "FULL", "NORMAL", "EXTRA":
	default:
		return nil, fmt.Errorf("sqlite: unknown synchronous mode %q", o.Synchronous)
	}
	if o.Readers <= 0 {
		o.Readers = max(4, 2*runtime.GOMAXPROCS(0))
	}
	switch {
	case o.WALSizeLimit == 0:
		o.WALSizeLimit = DefaultWALSizeLimit
	case o.WALSizeLimit < 0:
		o.WALSizeLimit = -1 // SQLite's "no limit"
	}
	if o.aloneEvery == 0 {
		o.aloneEvery = alonePoll
	}
	if err := checkPath(path); err != nil {
		return nil, err
	}
	// Before anything is written, migrations included: an alone handle
	// must have made room first (alone.go).
	presence, err := joinInstances(path, o.BusyTimeout)
	if err != nil {
		return nil, err
	}
	// busy_timeout comes first so every later pragma already waits for locks.
	// The driver runs busy_timeout before the other pragmas, and a DSN holds
	// one: the checkpointer's (below) is its own.
	pragmas := "&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(" + o.Synchronous + ")"
	dsn := "file:" + path + "?_pragma=busy_timeout(" + strconv.FormatInt(o.BusyTimeout.Milliseconds(), 10) + ")" + pragmas

	// temp_store(MEMORY) keeps the savepoint journal of group commit (a
	// copy of every page a batch member first changes) in memory; by
	// default it spills to a temporary file past 64 KiB.
	// wal_autocheckpoint(0): the checkpointer does it, off the writer.
	// journal_size_limit: the writer is the connection that starts the log
	// over (at the first commit after a complete checkpoint) and cuts its
	// file back then.
	write, err := sql.Open("sqlite", dsn+"&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(0)"+
		"&_pragma=journal_size_limit("+strconv.FormatInt(o.WALSizeLimit, 10)+")")
	if err != nil {
		presence.release()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	conn, err := write.Conn(ctx)
	if err != nil {
		write.Close()
		presence.release()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, translate(err))
	}
	w, err := groupcommit.New(conn, translate)
	if err != nil {
		conn.Close()
		write.Close()
		presence.release()
		return nil, err
	}
	db := &DB{write: write, w: w, dsn: dsn, decoded: newDecodedIncidents(), presence: presence}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.watchChanges(ctx); err != nil {
		db.Close()
		return nil, err
	}
	read, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open readers of %s: %w", path, err)
	}
	read.SetMaxOpenConns(o.Readers)
	read.SetMaxIdleConns(o.Readers)
	db.read = newReadPool(read)
	peek, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open readers of %s: %w", path, err)
	}
	db.peek = newPeekReaders(peek, o.Readers)
	stamps, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open the stamp reader of %s: %w", path, err)
	}
	db.stamps = newStampChecks(stamps, db.decoded, presence)
	db.decoded.reader.Store(db.stamps.reader)
	presence.start(db.stamps.checkFile, o.aloneEvery)
	// The checkpointer's busy timeout bounds how long its RESTART
	// checkpoints (when the log is longer than WALSizeLimit) hold the
	// writer back while readers of older snapshots finish.
	checkpoints, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(100)"+pragmas)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open the checkpointer of %s: %w", path, err)
	}
	checkpoints.SetMaxOpenConns(1)
	db.checkpoints = groupcommit.StartCheckpointer(checkpoints, o.WALSizeLimit, db.w)
	db.wire()
	return db, nil
}

// checkPath refuses a path that names no file.
func checkPath(path string) error {
	if path == "" || strings.ContainsAny(path, "?#") || path == ":memory:" {
		return fmt.Errorf("sqlite: path %q must name a file (an in-memory database cannot be shared by the write and read connections)", path)
	}
	return nil
}

// Close lets the writes already queued finish, then closes the writer and
// the read pool. Writes after Close fail.
func (db *DB) Close() error {
	db.presence.Close() // no get answers alone from here on
	errs := []error{db.w.Close()}
	if db.checkpoints != nil {
		errs = append(errs, db.checkpoints.Close())
	}
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	if db.peek != nil {
		errs = append(errs, db.peek.Close())
	}
	if db.stamps != nil {
		errs = append(errs, db.stamps.Close())
	}
	errs = append(errs, db.write.Close())
	// Last: another handle may write once this one's locks are gone.
	errs = append(errs, db.presence.release())
	return errors.Join(errs...)
}

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// wire builds the stores: those written once in sqlstore, over the
// driver, and this engine's own.
func (db *DB) wire() {
	db.drv = &driver{db: db, read: querierOf[*readPool]{db.read}}
	db.sharedStores = sqlstore.NewStores(db.drv, sqlstore.Own{
		Incidents:  &incidentStore{Incidents: sqlstore.NewIncidents(db.drv, db.decoded.scan, applyEffects), db: db, scan: db.decoded.scan},
		Responders: &responderStore{Responders: sqlstore.NewResponders(db.drv), db: db},
		Queue:      &webhookQueue{Queue: sqlstore.NewQueue(db.drv), db: db},
		Outbox:     (*outboxReader)(db),
	})
}

// migrate applies every embedded migration newer than the database, each in
// its own transaction with its version record.
func (db *DB) migrate(ctx context.Context) error {
	if err := db.inTx(ctx, func(tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`)
		return err
	}); err != nil {
		return fmt.Errorf("sqlite: create schema_migrations: %w", err)
	}
	files, err := sqlstore.Migrations(migrations)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	for _, m := range files {
		if err := db.applyMigration(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) applyMigration(ctx context.Context, m sqlstore.Migration) error {
	return db.inTx(ctx, func(tx *writeTx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.ExecOnce(m.SQL); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.Version, m.Name, time.Now().UnixMilli()) // a record of when, not domain data: the injected clock does not apply
		return err
	})
}

// inTx runs fn in a write transaction and returns fn's error, or the
// error of the commit. The transaction is a savepoint in a batch the writer
// commits at once (internal/groupcommit): fn sees every change committed
// or made before it in the batch, and the caller is answered after the
// commit. The error of a statement Later ran fails the transaction.
func (db *DB) inTx(ctx context.Context, fn func(*writeTx) error) error {
	return db.w.Do(ctx, func(gtx *groupcommit.Tx) error {
		tx := &writeTx{Tx: gtx, available: &db.available}
		if err := fn(tx); err != nil {
			return err
		}
		return tx.deferred
	})
}

// Alone says whether this handle is the only one open on the file, so that
// gets answer from the incidents it keeps without reading the stamp
// (alone.go).
func (db *DB) Alone() bool { return db.presence.isAlone() }

// ObserveCommits has fn told of every committed write batch: how many
// write transactions it carried and how long it took, BEGIN to the end of
// COMMIT (sety.WithMetrics uses it for the store's metrics).
func (db *DB) ObserveCommits(fn func(batch int, took time.Duration)) { db.w.Observe(fn) }

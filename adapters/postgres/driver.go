package postgres

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/outbox"
)

// sharedStores are the ports written once for both SQL engines, in
// sqlstore, over this database's driver; DB embeds them.
type sharedStores = sqlstore.Stores

// driver is the database as the stores written once in sqlstore use it:
// reads go to the pool, writes through inTx's transactions.
type driver struct {
	dialect
	db   *DB
	read sqlstore.Querier // made once: Read is on every read's path
}

func (d *driver) Read() sqlstore.Querier { return d.read }

// Write runs the statement on its own (autocommit): one round trip.
func (d *driver) Write(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := d.db.pool.Exec(ctx, placeholders(query), args...)
	return tag.RowsAffected(), translate(err)
}

func (d *driver) InTx(ctx context.Context, fn func(sqlstore.Tx) error) error {
	return d.db.inTx(ctx, func(t *txn) error { return fn(sharedTx{t: t}) })
}

// Snapshot runs fn in a read-only REPEATABLE READ transaction.
func (d *driver) Snapshot(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return translate(pgx.BeginTxFunc(ctx, d.db.pool, readTx, func(tx pgx.Tx) error { return fn(querierOf{tx}) }))
}

// CountAndPage reads both from one snapshot: a read-only REPEATABLE READ
// transaction, sent with its two queries as one batch (one round trip).
func (d *driver) CountAndPage(ctx context.Context, count, page sqlstore.Stmt, read func(sqlstore.Rows) error) (int, error) {
	b := &pgx.Batch{}
	b.Queue(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`)
	b.Queue(placeholders(count.SQL), count.Args...)
	b.Queue(placeholders(page.SQL), page.Args...)
	b.Queue(`COMMIT`)
	var total int
	err := readBatch(ctx, d.db.pool, b, func(br pgx.BatchResults) error {
		if err := br.QueryRow().Scan(&total); err != nil {
			return err
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		defer rows.Close()
		return read(timeRows{rows})
	})
	return total, err
}

func (d *driver) Translate(err error) error { return translate(err) }

// querierOf is the pool or a read transaction as sqlstore reads through it.
type querierOf struct{ q querier }

func (q querierOf) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := q.q.Query(ctx, placeholders(query), args...)
	if err != nil {
		return nil, err
	}
	return timeRows{rows}, nil
}

func (q querierOf) QueryRow(ctx context.Context, query string, args ...any) sqlstore.RowScanner {
	return timeRow{q.q.QueryRow(ctx, placeholders(query), args...)}
}

// timeRows and timeRow read a sqlstore.Time through pgx's own timestamptz
// scanner (pgTime). sqlstore.Time is a sql.Scanner, which both drivers
// take, but pgx decodes a value for it in three allocations more.
type (
	timeRows struct{ pgx.Rows }
	timeRow  struct{ pgx.Row }
)

func (r timeRows) Scan(dest ...any) error { return r.Rows.Scan(pgTimes(dest)...) }
func (r timeRow) Scan(dest ...any) error  { return r.Row.Scan(pgTimes(dest)...) }

// pgTimes puts a *pgTime where dest holds a *sqlstore.Time: the same
// value, read as timestamptz.
func pgTimes(dest []any) []any {
	for i, d := range dest {
		if t, ok := d.(*sqlstore.Time); ok {
			dest[i] = (*pgTime)(t)
		}
	}
	return dest
}

// pgTime is sqlstore.Time as pgx scans a timestamptz into it directly
// (pgtype.TimestamptzScanner).
type pgTime sqlstore.Time

func (t *pgTime) ScanTimestamptz(v pgtype.Timestamptz) error {
	t.Time = fromAt(v)
	return nil
}

// sharedTx is a transaction as sqlstore writes through it.
type sharedTx struct {
	dialect
	t *txn
}

func (tx sharedTx) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return querierOf{tx.t}.Query(ctx, query, args...)
}

func (tx sharedTx) QueryRow(ctx context.Context, query string, args ...any) sqlstore.RowScanner {
	return querierOf{tx.t}.QueryRow(ctx, query, args...)
}

func (tx sharedTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := tx.t.Exec(ctx, placeholders(query), args...)
	return tag.RowsAffected(), err
}

// Later queues the statement to go out with COMMIT (txn.later).
func (tx sharedTx) Later(query string, args ...any) { tx.t.later(placeholders(query), args...) }

// InsertEvents queues the events with the commit, under the outbox lock
// (txn.insertEvents).
func (tx sharedTx) InsertEvents(events []outbox.Event) { tx.t.insertEvents(events) }

// Serialize takes the transaction-scoped advisory lock of lock's class on
// name.
func (tx sharedTx) Serialize(ctx context.Context, lock sqlstore.Lock, name string) error {
	switch lock {
	case sqlstore.LockCodeDigits:
		return lockName(ctx, tx.t, lockCodeDigits, name)
	case sqlstore.LockSite:
		return lockName(ctx, tx.t, lockSite, name)
	case sqlstore.LockRate:
		return lockName(ctx, tx.t, lockRate, name)
	}
	return fmt.Errorf("postgres: no advisory lock for sqlstore lock %d", lock)
}

// maxNumbered bounds the queries whose numbered text is kept. The queries
// of sqlstore are constants and a few combinations of list conditions, so
// the bound is only a guard.
const maxNumbered = 1024

var (
	numbered  sync.Map // query with ? placeholders → the same with $1, $2, …
	nNumbered atomic.Int32
)

// placeholders returns query with its ? placeholders numbered, as
// PostgreSQL takes them, from the texts kept: pgx keeps a prepared
// statement per text, and the rewrite costs an allocation.
func placeholders(query string) string {
	if q, ok := numbered.Load(query); ok {
		return q.(string)
	}
	q := sqlstore.Numbered(query)
	if nNumbered.Load() < maxNumbered {
		if _, loaded := numbered.LoadOrStore(query, q); !loaded {
			nNumbered.Add(1)
		}
	}
	return q
}

// dialect is PostgreSQL's spelling of what sqlstore writes once; see
// sqlstore.Dialect. Times are timestamptz, kept to the millisecond.
type dialect struct{}

func (dialect) Placeholders(query string) string { return placeholders(query) }
func (dialect) Time(t time.Time) any             { return at(t) }
func (dialect) Text(b []byte) any                { return string(b) }
func (dialect) ForUpdate() string                { return forUpdate }
func (dialect) ForKeyShare() string              { return ` FOR KEY SHARE` }
func (dialect) SkipLocked() string               { return ` FOR UPDATE SKIP LOCKED` }
func (dialect) IndexedBy(string) string          { return "" }
func (dialect) Contains(column string) string    { return `strpos(` + column + `, ?) > 0` }
func (dialect) HourOf(column string) string {
	return `CAST(extract(hour FROM ` + column + ` AT TIME ZONE 'UTC') AS integer)`
}
func (dialect) WeekdayOf(column string) string {
	return `CAST(extract(dow FROM ` + column + ` AT TIME ZONE 'UTC') AS integer)`
}
func (dialect) DateOf(column string) string {
	return `to_char(` + column + ` AT TIME ZONE 'UTC', 'YYYY-MM-DD')`
}

// In takes one array argument: one query text (and one prepared
// statement) for any number of values.
func (dialect) In(column string, _ int) (string, bool) { return column + ` = ANY(?)`, true }

func (dialect) Bool(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/outbox"
)

// sharedStores are the ports written once for both SQL engines, in
// sqlstore, over this database's driver; DB embeds them.
type sharedStores = sqlstore.Stores

// driver is the database as the stores written once in sqlstore use it:
// reads go to the read pool, writes to the batching writer.
type driver struct {
	dialect
	db   *DB
	read sqlstore.Querier // made once: Read is on every read's path
}

func (d *driver) Read() sqlstore.Querier { return d.read }

func (d *driver) Write(ctx context.Context, query string, args ...any) (int64, error) {
	var n int64
	err := d.db.inTx(ctx, func(tx *writeTx) error {
		var err error
		n, err = tx.Exec(ctx, query, args...)
		return err
	})
	return n, translate(err)
}

func (d *driver) InTx(ctx context.Context, fn func(sqlstore.Tx) error) error {
	return translate(d.db.inTx(ctx, func(tx *writeTx) error { return fn(tx) }))
}

// Snapshot runs fn in a read-only transaction of the read pool.
func (d *driver) Snapshot(ctx context.Context, fn func(sqlstore.Querier) error) error {
	tx, err := d.db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return translate(err)
	}
	defer tx.Rollback()
	return translate(fn(querierOf[*sql.Tx]{tx}))
}

// CountAndPage reads both in one read-only transaction of the read pool.
func (d *driver) CountAndPage(ctx context.Context, count, page sqlstore.Stmt, read func(sqlstore.Rows) error) (int, error) {
	tx, err := d.db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return 0, translate(err)
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRowContext(ctx, count.SQL, count.Args...).Scan(&total); err != nil {
		return 0, translate(err)
	}
	rows, err := tx.QueryContext(ctx, page.SQL, page.Args...)
	if err != nil {
		return 0, translate(err)
	}
	defer rows.Close()
	return total, translate(read(sqlRows{rows}))
}

func (d *driver) Translate(err error) error { return translate(err) }

// querierOf is a database/sql querier (the read pool, a read transaction)
// as sqlstore reads through it. Q is a pointer, so that a querierOf is one
// word and costs no allocation as a sqlstore.Querier.
type querierOf[Q querier] struct{ q Q }

func (q querierOf[Q]) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (q querierOf[Q]) QueryRow(ctx context.Context, query string, args ...any) sqlstore.RowScanner {
	return q.q.QueryRowContext(ctx, query, args...)
}

// sqlRows is *sql.Rows as sqlstore.Rows: its Close reports nothing (what
// went wrong reading the rows, Err does).
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

// The methods of writeTx that make it a sqlstore.Tx.

// Exec runs a statement now, prepared once on the write connection.
func (tx *writeTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (tx *writeTx) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return querierOf[*writeTx]{tx}.Query(ctx, query, args...)
}

// QueryRow runs a query of at most one row (a write, with RETURNING, too),
// kept prepared on the write connection: parsing it anew cost more than
// running it (a keyed create's look-up of its key, a claim's read of the
// responder, an update's read of its row). Every caller scans the row at
// once, which ends the statement before its query can run again.
func (tx *writeTx) QueryRow(ctx context.Context, query string, args ...any) sqlstore.RowScanner {
	if err := tx.Err(); err != nil {
		return errRow{err}
	}
	return tx.Hot().QueryRowContext(ctx, query, args...)
}

// errRow is a row that scans its error.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// Later runs the statement at once: the writer is in process, so waiting
// saves no round trip. Its error fails the transaction when the callback
// returns (DB.inTx), and the transaction's later statements are not run.
func (tx *writeTx) Later(query string, args ...any) {
	if tx.deferred == nil {
		// The context is the caller's, kept by the transaction.
		_, tx.deferred = tx.ExecContext(context.Background(), query, args...)
	}
}

// InsertEvents adds events to the outbox at once, as Later runs a write,
// packed as every SQLite insert of events is (packEvents: an incident's
// later events of the transaction as deltas against its first): their
// positions are the rowids SQLite assigns, in commit order since one
// writer commits at a time (see EventLog).
func (tx *writeTx) InsertEvents(events []outbox.Event) {
	if tx.deferred == nil {
		// The context is the caller's, kept by the transaction.
		tx.deferred = insertPacked(context.Background(), tx, packEvents(events))
	}
}

// Serialize needs no lock: the writer runs one write transaction at a time,
// and SQLite lets one writer at a time at the file, across processes.
func (tx *writeTx) Serialize(context.Context, sqlstore.Lock, string) error { return nil }

// dialect is SQLite's spelling of what sqlstore writes once; see
// sqlstore.Dialect. Times are Unix milliseconds in INTEGER columns.
type dialect struct{}

func (dialect) Placeholders(query string) string { return query }
func (dialect) Time(t time.Time) any             { return millis(t) }
func (dialect) Text(b []byte) any                { return b }
func (dialect) ForUpdate() string                { return "" }
func (dialect) ForKeyShare() string              { return "" }
func (dialect) SkipLocked() string               { return "" }
func (dialect) IndexedBy(index string) string    { return " INDEXED BY " + index }
func (dialect) Contains(column string) string    { return `instr(` + column + `, ?) > 0` }
func (dialect) HourOf(column string) string      { return `(` + column + ` / 3600000) % 24` }
func (dialect) WeekdayOf(column string) string   { return `((` + column + ` / 86400000) + 4) % 7` } // 1970-01-01 was a Thursday
func (dialect) DateOf(column string) string      { return `date(` + column + ` / 1000, 'unixepoch')` }

func (dialect) In(column string, n int) (string, bool) {
	return column + ` IN (` + marks(n) + `)`, false
}

// Bool is 1 or 0: SQLite keeps booleans in INTEGER columns, and its
// partial indexes are chosen by conditions written as they are (is_drill = 0).
func (dialect) Bool(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

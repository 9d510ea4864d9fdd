package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// maxAttempts bounds how often inTx runs a transaction that PostgreSQL
// aborted for a deadlock or a serialization failure.
const maxAttempts = 5

// inTx runs fn in a READ COMMITTED transaction and commits it if fn
// returns nil. A transaction aborted by a deadlock (or a serialization
// failure, or fn's *retry) is run again from the start, so fn must read
// what it changes inside the transaction; every fn here does. Errors come
// out translated.
func (db *DB) inTx(ctx context.Context, fn func(*txn) error) error {
	var err error
	for range maxAttempts {
		err = db.runTx(ctx, fn)
		if !retryable(err) {
			break
		}
	}
	if r := (*retry)(nil); errors.As(err, &r) {
		err = r.cause
	}
	return translate(err)
}

// txn is a transaction on one pooled connection that spends as few round
// trips as its statements allow: BEGIN goes out with its first statement,
// and the writes nothing in it reads after (queued by later, and the
// events) go out with COMMIT, in one batch. A transaction that only
// writes is one round trip, an implicit transaction without BEGIN and
// COMMIT (implicit); one that locks a row, changes it and writes its
// events is two.
type txn struct {
	conn  *pgxpool.Conn
	begun bool      // BEGIN was sent
	tail  pgx.Batch // what goes out with COMMIT
}

func (db *DB) runTx(ctx context.Context, fn func(*txn) error) (err error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	t := &txn{conn: conn}
	defer func() {
		// A transaction left open (fn failed, or the batch did) is rolled
		// back; a connection that cannot say so is dropped, not reused.
		if t.begun && conn.Conn().PgConn().TxStatus() != 'I' {
			if _, rerr := conn.Exec(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
				conn.Conn().Close(context.WithoutCancel(ctx))
			}
		}
		conn.Release()
	}()
	if err := fn(t); err != nil {
		return err
	}
	if !t.begun {
		if t.tail.Len() == 0 {
			return nil // nothing was read or written
		}
		return t.implicit(ctx)
	}
	t.tail.Queue("COMMIT")
	br := t.send(ctx, &t.tail)
	defer func() {
		if cerr := br.Close(); err == nil {
			err = cerr
		}
	}()
	var tag pgconn.CommandTag
	for range t.tail.Len() {
		if tag, err = br.Exec(); err != nil {
			return err
		}
	}
	// COMMIT of a transaction that failed (an error fn chose to ignore)
	// rolls it back without an error: say so.
	if tag.String() != "COMMIT" {
		return fmt.Errorf("postgres: transaction rolled back (%s)", tag)
	}
	return nil
}

// implicit sends a transaction that is all one batch (the tail: nothing
// was run before it) without BEGIN and COMMIT: the statements of one
// pipeline, up to its Sync, are one implicit transaction (PostgreSQL's
// extended query protocol; pgx's SendBatch), which commits at the Sync if
// every statement succeeded and rolls back from the first that failed. Two
// statements fewer for the database to parse, run and answer, and for the
// driver to send and read, in every create without an idempotency key.
func (t *txn) implicit(ctx context.Context) (err error) {
	br := t.conn.SendBatch(ctx, &t.tail)
	defer func() {
		if cerr := br.Close(); err == nil {
			err = cerr
		}
	}()
	for range t.tail.Len() {
		if _, err = br.Exec(); err != nil {
			return err
		}
	}
	return nil
}

// send sends b, with BEGIN before it if the transaction has not begun;
// the results read start after BEGIN's.
func (t *txn) send(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if t.begun {
		return t.conn.SendBatch(ctx, b)
	}
	t.begun = true
	with := &pgx.Batch{QueuedQueries: append([]*pgx.QueuedQuery{{SQL: "BEGIN"}}, b.QueuedQueries...)}
	br := t.conn.SendBatch(ctx, with)
	if _, err := br.Exec(); err != nil {
		return failed{br, err}
	}
	return br
}

// failed is a batch whose BEGIN failed: every result is that error.
type failed struct {
	pgx.BatchResults
	err error
}

func (f failed) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, f.err }
func (f failed) Query() (pgx.Rows, error)         { return nil, f.err }
func (f failed) QueryRow() pgx.Row                { return errRow{f.err} }
func (f failed) Close() error                     { f.BatchResults.Close(); return f.err }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// Exec runs one statement now.
func (t *txn) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if t.begun {
		return t.conn.Exec(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br := t.send(ctx, b)
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

// QueryRow runs one query now.
func (t *txn) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if t.begun {
		return t.conn.QueryRow(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br := t.send(ctx, b)
	return closingRow{br.QueryRow(), br}
}

// closingRow closes its batch once scanned.
type closingRow struct {
	row pgx.Row
	br  pgx.BatchResults
}

func (r closingRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

// Query runs a query now (after a BEGIN of its own if it is the first).
func (t *txn) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if !t.begun {
		t.begun = true
		if _, err := t.conn.Exec(ctx, "BEGIN"); err != nil {
			return nil, err
		}
	}
	return t.conn.Query(ctx, sql, args...)
}

// run runs the statements of b now, in one round trip; none returns rows
// anyone reads.
func (t *txn) run(ctx context.Context, b *pgx.Batch) error {
	br := t.send(ctx, b)
	for range b.Len() {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return err
		}
	}
	return br.Close()
}

// later queues a write to go out with COMMIT, after everything run now:
// for writes whose result nothing in the transaction reads. Its error, if
// any, fails the commit.
func (t *txn) later(sql string, args ...any) { t.tail.Queue(sql, args...) }

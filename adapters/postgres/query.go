package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
)

// rowScanner is a row to scan: pgx.Row or pgx.Rows.
type rowScanner = sqlstore.RowScanner

// prefixed qualifies every column of a comma-separated list with prefix.
func prefixed(prefix, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// querier is the pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// queryAll runs query on q and returns every row, scanned by scan.
func queryAll[T any](ctx context.Context, q querier, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, translate(err)
	}
	out, err := scanAll(timeRows{rows}, scan)
	return out, translate(err)
}

// forUpdate locks the rows a select reads until the transaction ends.
// NO KEY UPDATE, because no update here changes a key: inserts that refer
// to the row (a delivery to its endpoint) need not wait for it.
const forUpdate = ` FOR NO KEY UPDATE`

// readTx is a read-only transaction on one snapshot: the reads of a page
// and its count, or of an aggregate's parts, agree with each other.
var readTx = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}

// readBatch sends b, a read-only transaction (BEGIN, the queries, COMMIT),
// skips BEGIN's result, lets read read the queries' and checks COMMIT's.
// A connection given back inside the transaction (an error) is dropped by
// the pool, not reused.
func readBatch(ctx context.Context, pool *pgxpool.Pool, b *pgx.Batch, read func(pgx.BatchResults) error) error {
	br := pool.SendBatch(ctx, b)
	err := func() error {
		if _, err := br.Exec(); err != nil {
			return err
		}
		if err := read(br); err != nil {
			return err
		}
		_, err := br.Exec()
		return err
	}()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return translate(err)
}

// scanRows reads the next result of br, every row scanned by scan.
func scanRows[T any](br pgx.BatchResults, scan func(rowScanner) (T, error)) ([]T, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	return scanAll(rows, scan)
}

// at is a time as stored: UTC, truncated to the millisecond, the precision
// Sety keeps (as SQLite's integer milliseconds do); the zero time is NULL.
func at(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: t.UTC().Truncate(time.Millisecond), Valid: true}
}

// fromAt is the inverse of at: NULL is the zero time, anything else UTC.
func fromAt(v pgtype.Timestamptz) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return v.Time.UTC()
}

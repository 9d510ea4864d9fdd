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
	"github.com/sety-io/sety/auth"
)

// rowScanner is a row to scan: pgx.Row or pgx.Rows.
type rowScanner = sqlstore.RowScanner

// then is a rowScanner that hands the destinations it is given to a
// function: the way to scan one row that holds more than one scan
// function's columns (a delivery, its endpoint and its event), each
// function nesting the next.
type then func(dest []any) error

func (f then) Scan(dest ...any) error { return f(dest) }

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
	out, err := scanAll(rows, scan)
	return out, translate(err)
}

// byTenantID is the condition of a tenant's row by id; its arguments are
// $1 the id, $2 the organization and $3 the environment.
const byTenantID = ` WHERE id = $1 AND org_id = $2 AND environment = $3`

// forUpdate locks the rows a select reads until the transaction ends.
// NO KEY UPDATE, because no update here changes a key: inserts that refer
// to the row (a delivery to its endpoint) need not wait for it.
const forUpdate = ` FOR NO KEY UPDATE`

// table is how rows of one kind are read: the select of their columns, the
// scan of one row, and the error of a row the tenant does not have.
type table[T any] struct {
	sel      string
	scan     func(rowScanner) (T, error)
	notFound error
}

// get reads the tenant's row id through q, with suffix (forUpdate, or "")
// after the condition.
func (t table[T]) get(ctx context.Context, q querier, tenant auth.Tenant, id, suffix string) (T, error) {
	v, err := t.scan(q.QueryRow(ctx, t.sel+byTenantID+suffix, id, tenant.OrgID, tenant.Env))
	v, err = sqlstore.Found(v, err, errNoRows, t.notFound)
	return v, translate(err)
}

// update locks the tenant's row id in a transaction and hands it to write,
// which changes and stores it, and returns the row as write left it. The
// row lock (SELECT ... FOR NO KEY UPDATE) serializes concurrent updates of
// one row, from any instance: a second update waits for the first to
// commit and then reads what it wrote, so no change is lost. A missing row
// is notFound; an error from write is returned as it is; both write
// nothing.
func (t table[T]) update(ctx context.Context, db *DB, tenant auth.Tenant, id string, write func(*txn, T) error) (T, error) {
	return sqlstore.Update(func(fn func(*txn) error) error { return db.inTx(ctx, fn) },
		func(tx *txn) (T, error) { return t.get(ctx, tx, tenant, id, forUpdate) }, write)
}

// list is a query of many rows. Its conditions are written with ?
// placeholders, numbered ($1, $2, …) as the query is sent.
type list = sqlstore.List

// all returns every row of l.
func all[T any](ctx context.Context, q querier, scan func(rowScanner) (T, error), l list) ([]T, error) {
	return queryAll(ctx, q, scan, sqlstore.Numbered(l.Query()), l.Args...)
}

// readTx is a read-only transaction on one snapshot: the reads of a page
// and its count, or of an aggregate's parts, agree with each other.
var readTx = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}

// listPage returns the page [offset, offset+limit) of l and how many rows
// match in all, both read from one snapshot: a read-only REPEATABLE READ
// transaction, sent with its two queries as one batch (one round trip).
func listPage[T any](ctx context.Context, db *DB, scan func(rowScanner) (T, error), l list, offset, limit int) ([]T, int, error) {
	count, countArgs := l.Count()
	pageQuery, pageArgs := l.Page(offset, limit)
	b := &pgx.Batch{}
	b.Queue(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`)
	b.Queue(sqlstore.Numbered(count), countArgs...)
	b.Queue(sqlstore.Numbered(pageQuery), pageArgs...)
	b.Queue(`COMMIT`)
	var (
		page  []T
		total int
	)
	err := readBatch(ctx, db.pool, b, func(br pgx.BatchResults) error {
		if err := br.QueryRow().Scan(&total); err != nil {
			return err
		}
		var err error
		page, err = scanRows(br, scan)
		return err
	})
	return page, total, err
}

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

// anyOf adds "column = ANY(values)" for a non-empty filter list.
func anyOf[T ~string](l *list, column string, values []T) {
	if len(values) == 0 {
		return
	}
	args := make([]string, len(values))
	for i, v := range values {
		args[i] = string(v)
	}
	l.And(column+` = ANY(?)`, args)
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

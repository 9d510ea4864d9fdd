package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/auth"
)

// rowScanner is a row to scan: *sql.Row or *sql.Rows.
type rowScanner = sqlstore.RowScanner

// querier is what reads need: the read pool or a transaction.
type querier interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

// queryAll runs query on q and returns every row, scanned by scan.
func queryAll[T any](ctx context.Context, q querier, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out, err := sqlstore.Collect(rows, scan)
	return out, translate(err)
}

// byTenantID is the condition of a tenant's row by id; its arguments are
// the id, the organization and the environment.
const byTenantID = ` WHERE id = ? AND org_id = ? AND environment = ?`

// table is how rows of one kind are read: the select of their columns, the
// scan of one row, and the error of a row the tenant does not have.
type table[T any] struct {
	sel      string
	scan     func(rowScanner) (T, error)
	notFound error
}

// get reads the tenant's row id through q: the read pool or a transaction.
func (t table[T]) get(ctx context.Context, q querier, tenant auth.Tenant, id string) (T, error) {
	v, err := t.scan(q.QueryRowContext(ctx, t.sel+byTenantID, id, tenant.OrgID, tenant.Env))
	v, err = sqlstore.Found(v, err, errNoRows, t.notFound)
	return v, translate(err)
}

// update reads the tenant's row id in a write transaction and hands it to
// write, which changes and stores it, and returns the row as write left it.
// A missing row is notFound; an error from write is returned as it is; both
// write nothing.
func (t table[T]) update(ctx context.Context, db *DB, tenant auth.Tenant, id string, write func(*writeTx, T) error) (T, error) {
	v, err := sqlstore.Update(func(fn func(*writeTx) error) error { return db.inTx(ctx, fn) },
		func(tx *writeTx) (T, error) { return t.get(ctx, tx, tenant, id) }, write)
	return v, translate(err)
}

// list is a query of many rows, with ? placeholders (SQLite's own).
type list = sqlstore.List

// all returns every row of l.
func all[T any](ctx context.Context, q querier, scan func(rowScanner) (T, error), l list) ([]T, error) {
	return queryAll(ctx, q, scan, l.Query(), l.Args...)
}

// listPage returns the page [offset, offset+limit) of l and how many rows
// match in all. Count and page are read in one read transaction, so both
// see the same snapshot.
func listPage[T any](ctx context.Context, db *readPool, scan func(rowScanner) (T, error), l list, offset, limit int) ([]T, int, error) {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, translate(err)
	}
	defer tx.Rollback()
	count, args := l.Count()
	var total int
	if err := tx.QueryRowContext(ctx, count, args...).Scan(&total); err != nil {
		return nil, 0, translate(err)
	}
	query, args := l.Page(offset, limit)
	page, err := queryAll(ctx, tx, scan, query, args...)
	return page, total, err
}

// inList adds "column IN (?, ?...)" for a non-empty filter list.
func inList[T ~string](l *list, column string, values []T) {
	if len(values) == 0 {
		return
	}
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = string(v)
	}
	l.And(column+` IN (`+marks(len(values))+`)`, args...)
}

// marks returns n comma-separated placeholders.
func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// millis stores a time as Unix milliseconds, and the zero time as NULL.
func millis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// fromMillis is the inverse of millis.
func fromMillis(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

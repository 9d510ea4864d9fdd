package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
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

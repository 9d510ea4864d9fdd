package sqlstore

import "context"

// RowScanner is a row to scan: *sql.Row or *sql.Rows, pgx.Row or pgx.Rows.
type RowScanner interface{ Scan(dest ...any) error }

// Cursor is rows read one at a time, as Collect reads them: *sql.Rows,
// pgx.Rows, or Rows.
type Cursor interface {
	RowScanner
	Next() bool
	Err() error
}

// Rows is the result set of Querier.Query; Close releases it.
type Rows interface {
	Cursor
	Close()
}

// Collect scans every remaining row of rows with scan. It stops at the
// first error, of scan or of the result set. Closing rows stays with the
// caller.
func Collect[T any](rows Cursor, scan func(RowScanner) (T, error)) ([]T, error) {
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// QueryAll runs query on q and returns every row, scanned by scan.
func QueryAll[T any](ctx context.Context, q Querier, scan func(RowScanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return Collect(rows, scan)
}

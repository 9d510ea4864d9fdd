package sqlstore

// RowScanner is a row to scan: *sql.Row or *sql.Rows, pgx.Row or pgx.Rows.
type RowScanner interface{ Scan(dest ...any) error }

// Rows is a result set of either driver, as Collect reads it. Closing it
// stays with the caller: the drivers' Close methods differ.
type Rows interface {
	RowScanner
	Next() bool
	Err() error
}

// Collect scans every remaining row of rows with scan. It stops at the
// first error, of scan or of the result set.
func Collect[T any](rows Rows, scan func(RowScanner) (T, error)) ([]T, error) {
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

package sqlite

import (
	"context"
	"database/sql"

	"github.com/sety-io/sety/auth"
)

type rateStore DB

// RateStore returns the shared store of the rate limit, so every process
// over this file enforces one limit.
func (db *DB) RateStore() auth.RateStore { return (*rateStore)(db) }

// TakeRequest admits in one write transaction, which SQLite's single writer
// serializes across every process. A tenant already at its limit is
// refused from a read, so a flood of refused requests writes nothing.
func (s *rateStore) TakeRequest(ctx context.Context, tenant auth.Tenant, at int64, limit int) (bool, int, int64, error) {
	since := at - auth.Window.Milliseconds()
	used, oldest, err := countWindow(ctx, s.read, tenant, since, at)
	if err != nil || used >= limit {
		return false, used, oldest, translate(err)
	}
	admitted := false
	err = (*DB)(s).inTx(ctx, func(tx *writeTx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM rate_admissions WHERE org_id = ? AND environment = ? AND at <= ?`,
			tenant.OrgID, tenant.Env, since); err != nil {
			return err
		}
		var err error
		if used, oldest, err = countWindow(ctx, tx, tenant, since, at); err != nil || used >= limit {
			return err
		}
		admitted, used = true, used+1
		_, err = tx.ExecContext(ctx, `INSERT INTO rate_admissions (org_id, environment, at) VALUES (?, ?, ?)`, tenant.OrgID, tenant.Env, at)
		return err
	})
	return admitted, used, oldest, translate(err)
}

// countWindow counts the tenant's admissions after since and finds the
// oldest (at when there is none).
func countWindow(ctx context.Context, q querier, tenant auth.Tenant, since, at int64) (int, int64, error) {
	var (
		used  int
		first sql.NullInt64
	)
	err := q.QueryRowContext(ctx, `SELECT count(*), min(at) FROM rate_admissions WHERE org_id = ? AND environment = ? AND at > ?`,
		tenant.OrgID, tenant.Env, since).Scan(&used, &first)
	if first.Valid {
		return used, min(first.Int64, at), err
	}
	return used, at, err
}

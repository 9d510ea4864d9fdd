package postgres

import (
	"context"

	"github.com/sety-io/sety/auth"
)

type rateStore DB

// RateStore returns the shared store of the rate limit, so every instance
// over this database enforces one limit (sety.New uses it by default).
func (db *DB) RateStore() auth.RateStore { return (*rateStore)(db) }

// TakeRequest counts and admits under the tenant's advisory lock: one
// request of a tenant at a time, in every instance, reads the window (its
// statements see every admission committed before it took the lock) and
// adds itself, so no window admits more than the limit. A tenant already
// at its limit is refused from a read: a flood of refused requests writes
// nothing and takes no lock.
func (s *rateStore) TakeRequest(ctx context.Context, tenant auth.Tenant, at int64, limit int) (bool, int, int64, error) {
	since := at - auth.Window.Milliseconds()
	used, oldest, err := countWindow(ctx, s.pool, tenant, since, at)
	if err != nil || used >= limit {
		return false, used, oldest, translate(err)
	}
	admitted := false
	err = (*DB)(s).inTx(ctx, func(tx *txn) error {
		admitted = false
		if err := lockName(ctx, tx, lockRate, tenant.OrgID+"/"+string(tenant.Env)); err != nil {
			return err
		}
		// What left the window goes with the commit; the count skips it anyway.
		tx.later(`DELETE FROM rate_admissions WHERE org_id = $1 AND environment = $2 AND at <= $3`, tenant.OrgID, string(tenant.Env), since)
		var err error
		if used, oldest, err = countWindow(ctx, tx, tenant, since, at); err != nil || used >= limit {
			return err
		}
		admitted, used = true, used+1
		tx.later(`INSERT INTO rate_admissions (org_id, environment, at) VALUES ($1, $2, $3)`, tenant.OrgID, string(tenant.Env), at)
		return nil
	})
	return admitted, used, oldest, err
}

// countWindow counts the tenant's admissions after since and finds the
// oldest (at when there is none).
func countWindow(ctx context.Context, q querier, tenant auth.Tenant, since, at int64) (int, int64, error) {
	var (
		used  int
		first *int64
	)
	err := q.QueryRow(ctx, `SELECT count(*), min(at) FROM rate_admissions WHERE org_id = $1 AND environment = $2 AND at > $3`,
		tenant.OrgID, string(tenant.Env), since).Scan(&used, &first)
	if first != nil {
		return used, min(*first, at), err
	}
	return used, at, err
}

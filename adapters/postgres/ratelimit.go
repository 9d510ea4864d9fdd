package postgres

import (
	"context"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/auth"
)

type rateLeases DB

// RateLeases returns the store of the rate limit's leases, so every
// instance over this database enforces one limit (sety.New uses it by
// default, through an auth.LeaseLimiter).
func (db *DB) RateLeases() auth.RateLeaseStore { return (*rateLeases)(db) }

// The statements of the lease store: the SQLite adapter's text, its
// placeholders numbered.
var (
	// An end keeps the used slots up to the last admission and never
	// raises either, so a second end of a lease changes nothing.
	endLeaseSQL = sqlstore.Numbered(`UPDATE rate_leases SET slots = ?, last_at = ?
		WHERE org_id = ? AND environment = ? AND lease_id = ? AND slots >= ? AND last_at >= ?`)
	dropLeaseSQL         = sqlstore.Numbered(`DELETE FROM rate_leases WHERE org_id = ? AND environment = ? AND lease_id = ?`)
	forgetTenantLeaseSQL = sqlstore.Numbered(`DELETE FROM rate_leases WHERE org_id = ? AND environment = ? AND last_at <= ?`)
	countLeasesSQL       = sqlstore.Numbered(`SELECT coalesce(sum(slots), 0), coalesce(min(last_at), 0) FROM rate_leases
		WHERE org_id = ? AND environment = ? AND last_at > ?`)
	insertLeaseSQL  = sqlstore.Numbered(`INSERT INTO rate_leases (org_id, environment, lease_id, slots, last_at) VALUES (?, ?, ?, ?, ?)`)
	forgetLeasesSQL = sqlstore.Numbered(`DELETE FROM rate_leases WHERE last_at <= ?`)
)

// TakeLease counts and grants under the tenant's advisory lock: one grant
// of a tenant at a time, in every instance, and its statements see every
// lease committed before it took the lock. Ends and the sweep take no
// lock: a grant that reads a lease before its end counts more than the
// end leaves, never less. A request that ends no lease is refused from a
// read when the budget is spent: a refused tenant writes nothing and
// takes no lock.
func (s *rateLeases) TakeLease(ctx context.Context, req auth.LeaseRequest) (auth.LeaseGrant, error) {
	after := auth.CountedAfter(req.At)
	org, env := req.Tenant.OrgID, string(req.Tenant.Env)
	if req.End == nil {
		used, earliest, err := countLeases(ctx, s.pool, org, env, after)
		if err != nil {
			return auth.LeaseGrant{}, translate(err)
		}
		if g := req.Grant(used, earliest); g.Slots == 0 {
			return g, nil
		}
	}
	var g auth.LeaseGrant
	err := (*DB)(s).inTx(ctx, func(tx *txn) error {
		g = auth.LeaseGrant{}
		if err := lockName(ctx, tx, lockRate, org+"/"+env); err != nil {
			return err
		}
		if req.End != nil { // now: the count must see it
			query, args := endStatement(*req.End)
			if _, err := tx.Exec(ctx, query, args...); err != nil {
				return err
			}
		}
		// What left the window goes with the commit; the count skips it anyway.
		tx.later(forgetTenantLeaseSQL, org, env, after)
		used, earliest, err := countLeases(ctx, tx, org, env, after)
		if err != nil {
			return err
		}
		if g = req.Grant(used, earliest); g.Slots > 0 {
			tx.later(insertLeaseSQL, org, env, req.ID, g.Slots, req.Until-1)
		}
		return nil
	})
	if err != nil {
		return auth.LeaseGrant{}, err
	}
	return g, nil
}

// EndLeases ends the leases and forgets the old ones in one transaction,
// sent in one round trip.
func (s *rateLeases) EndLeases(ctx context.Context, ends []auth.LeaseEnd, forget int64) error {
	return (*DB)(s).inTx(ctx, func(tx *txn) error {
		for _, e := range ends {
			query, args := endStatement(e)
			tx.later(query, args...)
		}
		tx.later(forgetLeasesSQL, forget)
		return nil
	})
}

// endStatement is the statement that records how a lease ended: it is
// deleted if it admitted nothing.
func endStatement(e auth.LeaseEnd) (string, []any) {
	if e.Used == 0 {
		return dropLeaseSQL, []any{e.Tenant.OrgID, string(e.Tenant.Env), e.ID}
	}
	return endLeaseSQL, []any{e.Used, e.Last, e.Tenant.OrgID, string(e.Tenant.Env), e.ID, e.Used, e.Last}
}

// countLeases sums the slots of the tenant's leases that may hold an
// admission after after, and finds the earliest last admission among them.
func countLeases(ctx context.Context, q querier, org, env string, after int64) (used int, earliest int64, err error) {
	err = q.QueryRow(ctx, countLeasesSQL, org, env, after).Scan(&used, &earliest)
	return used, earliest, err
}

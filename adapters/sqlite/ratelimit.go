package sqlite

import (
	"context"

	"github.com/sety-io/sety/auth"
)

type rateLeases DB

// RateLeases returns the store of the rate limit's leases, so every
// process over this file enforces one limit (sety.New uses it by default,
// through an auth.LeaseLimiter).
func (db *DB) RateLeases() auth.RateLeaseStore { return (*rateLeases)(db) }

// The statements of the lease store, the same text in the PostgreSQL
// adapter (which numbers the placeholders).
const (
	// An end keeps the used slots up to the last admission and never
	// raises either, so a second end of a lease changes nothing.
	endLeaseSQL = `UPDATE rate_leases SET slots = ?, last_at = ?
		WHERE org_id = ? AND environment = ? AND lease_id = ? AND slots >= ? AND last_at >= ?`
	dropLeaseSQL         = `DELETE FROM rate_leases WHERE org_id = ? AND environment = ? AND lease_id = ?`
	forgetTenantLeaseSQL = `DELETE FROM rate_leases WHERE org_id = ? AND environment = ? AND last_at <= ?`
	countLeasesSQL       = `SELECT coalesce(sum(slots), 0), coalesce(min(last_at), 0) FROM rate_leases
		WHERE org_id = ? AND environment = ? AND last_at > ?`
	insertLeaseSQL  = `INSERT INTO rate_leases (org_id, environment, lease_id, slots, last_at) VALUES (?, ?, ?, ?, ?)`
	forgetLeasesSQL = `DELETE FROM rate_leases WHERE last_at <= ?`
)

// TakeLease counts and grants in one write transaction, which SQLite's
// single writer serializes across every process. A request that ends no
// lease is refused from a read when the budget is spent, so a refused
// tenant writes nothing.
func (s *rateLeases) TakeLease(ctx context.Context, req auth.LeaseRequest) (auth.LeaseGrant, error) {
	after := auth.CountedAfter(req.At)
	if req.End == nil {
		used, earliest, err := countLeases(ctx, s.read, req.Tenant, after)
		if err != nil {
			return auth.LeaseGrant{}, translate(err)
		}
		if g := req.Grant(used, earliest); g.Slots == 0 {
			return g, nil
		}
	}
	var g auth.LeaseGrant
	err := (*DB)(s).inTx(ctx, func(tx *writeTx) error {
		if req.End != nil {
			if err := endLease(ctx, tx, *req.End); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, forgetTenantLeaseSQL, req.Tenant.OrgID, req.Tenant.Env, after); err != nil {
			return err
		}
		used, earliest, err := countLeases(ctx, tx, req.Tenant, after)
		if err != nil {
			return err
		}
		if g = req.Grant(used, earliest); g.Slots == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, insertLeaseSQL, req.Tenant.OrgID, req.Tenant.Env, req.ID, g.Slots, req.Until-1)
		return err
	})
	if err != nil {
		return auth.LeaseGrant{}, translate(err)
	}
	return g, nil
}

// EndLeases ends the leases and forgets the old ones in one transaction.
func (s *rateLeases) EndLeases(ctx context.Context, ends []auth.LeaseEnd, forget int64) error {
	return translate((*DB)(s).inTx(ctx, func(tx *writeTx) error {
		for _, e := range ends {
			if err := endLease(ctx, tx, e); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, forgetLeasesSQL, forget)
		return err
	}))
}

// endLease records how a lease ended: it is deleted if it admitted
// nothing.
func endLease(ctx context.Context, tx *writeTx, e auth.LeaseEnd) error {
	query, args := dropLeaseSQL, []any{e.Tenant.OrgID, e.Tenant.Env, e.ID}
	if e.Used > 0 {
		query, args = endLeaseSQL, []any{e.Used, e.Last, e.Tenant.OrgID, e.Tenant.Env, e.ID, e.Used, e.Last}
	}
	_, err := tx.ExecContext(ctx, query, args...)
	return err
}

// countLeases sums the slots of the tenant's leases that may hold an
// admission after after, and finds the earliest last admission among them.
func countLeases(ctx context.Context, q querier, tenant auth.Tenant, after int64) (used int, earliest int64, err error) {
	err = q.QueryRowContext(ctx, countLeasesSQL, tenant.OrgID, tenant.Env, after).Scan(&used, &earliest)
	return used, earliest, err
}

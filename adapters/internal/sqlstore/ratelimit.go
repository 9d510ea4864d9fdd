package sqlstore

import (
	"context"

	"github.com/sety-io/sety/auth"
)

// rateLeases is auth.RateLeaseStore on a Driver: the same SQL on both
// engines, so every process over one database enforces one limit.
type rateLeases struct{ d Driver }

// The statements of the lease store.
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

// TakeLease counts and grants in one write transaction serialized on the
// tenant (Tx.Serialize: PostgreSQL's advisory lock, in every instance;
// SQLite's single writer, across every process), whose statements see
// every lease committed before it. Ends and the sweep are not serialized:
// a grant that reads a lease before its end counts more than the end
// leaves, never less. A request that ends no lease is refused from a read
// when the budget is spent: a refused tenant writes nothing and waits for
// no other.
func (s rateLeases) TakeLease(ctx context.Context, req auth.LeaseRequest) (auth.LeaseGrant, error) {
	after := auth.CountedAfter(req.At)
	org, env := req.Tenant.OrgID, req.Tenant.Env
	if req.End == nil {
		used, earliest, err := countLeases(ctx, s.d.Read(), org, env, after)
		if err != nil {
			return auth.LeaseGrant{}, s.d.Translate(err)
		}
		if g := req.Grant(used, earliest); g.Slots == 0 {
			return g, nil
		}
	}
	var g auth.LeaseGrant
	err := s.d.InTx(ctx, func(tx Tx) error {
		g = auth.LeaseGrant{} // InTx may run this again
		if err := tx.Serialize(ctx, LockRate, org+"/"+string(env)); err != nil {
			return err
		}
		if req.End != nil { // now: the count must see it
			query, args := endStatement(*req.End)
			if _, err := tx.Exec(ctx, query, args...); err != nil {
				return err
			}
		}
		// What left the window goes with the commit; the count skips it anyway.
		tx.Later(forgetTenantLeaseSQL, org, env, after)
		used, earliest, err := countLeases(ctx, tx, org, env, after)
		if err != nil {
			return err
		}
		if g = req.Grant(used, earliest); g.Slots > 0 {
			tx.Later(insertLeaseSQL, org, env, req.ID, g.Slots, req.Until-1)
		}
		return nil
	})
	if err != nil {
		return auth.LeaseGrant{}, err
	}
	return g, nil
}

// EndLeases ends the leases and forgets the old ones in one transaction
// (on PostgreSQL, sent in one round trip).
func (s rateLeases) EndLeases(ctx context.Context, ends []auth.LeaseEnd, forget int64) error {
	return s.d.InTx(ctx, func(tx Tx) error {
		for _, e := range ends {
			query, args := endStatement(e)
			tx.Later(query, args...)
		}
		tx.Later(forgetLeasesSQL, forget)
		return nil
	})
}

// endStatement is the statement that records how a lease ended: it is
// deleted if it admitted nothing.
func endStatement(e auth.LeaseEnd) (string, []any) {
	if e.Used == 0 {
		return dropLeaseSQL, []any{e.Tenant.OrgID, e.Tenant.Env, e.ID}
	}
	return endLeaseSQL, []any{e.Used, e.Last, e.Tenant.OrgID, e.Tenant.Env, e.ID, e.Used, e.Last}
}

// countLeases sums the slots of the tenant's leases that may hold an
// admission after after, and finds the earliest last admission among them.
func countLeases(ctx context.Context, q Querier, org string, env auth.Environment, after int64) (used int, earliest int64, err error) {
	err = q.QueryRow(ctx, countLeasesSQL, org, env, after).Scan(&used, &earliest)
	return used, earliest, err
}

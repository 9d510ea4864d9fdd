package auth

import "context"

// RateLeaseStore keeps the leases of rate-limit budget that the instances
// sharing a store hold (SQLite, PostgreSQL): the one write an instance
// makes to admit many requests. The package documentation says why the
// limit stays exact; a store's part is to count and grant atomically.
//
// Times are Unix milliseconds, on the instances' clocks.
type RateLeaseStore interface {
	// TakeLease, atomically with respect to every other TakeLease of the
	// tenant on the store: ends req.End when it is set (as EndLeases
	// does); counts the slots of the tenant's leases that may hold an
	// admission after req.At − Window (an open lease its granted slots
	// up to its last possible admission, an ended one its used slots up
	// to its last admission); records a lease of req.Grant's slots with id
	// req.ID when that is at least one; and returns what req.Grant says.
	// It may delete the tenant's leases that no longer count. A refusal
	// need not write at all.
	TakeLease(ctx context.Context, req LeaseRequest) (LeaseGrant, error)
	// EndLeases ends leases in one write: a lease that admitted nothing
	// is deleted; another keeps only its used slots and its last
	// admission. An end never raises a lease's slots or last admission,
	// so ending a lease twice changes nothing. It also deletes every
	// tenant's leases whose last possible admission is at or before
	// forget (they count in no window any more).
	EndLeases(ctx context.Context, ends []LeaseEnd, forget int64) error
}

// LeaseRequest asks a RateLeaseStore for budget.
type LeaseRequest struct {
	Tenant Tenant
	ID     string // the new lease's id, unique on the store
	At     int64  // the request's time: the lease admits at or after it
	Until  int64  // and before it (At < Until)
	Want   int    // slots wanted, at least 1
	Limit  int    // the plan's requests per Window
	// End is a lease of the same tenant to end in the same write, or nil.
	End *LeaseEnd
}

// LeaseGrant is a RateLeaseStore's answer.
type LeaseGrant struct {
	Slots int   // granted; 0: refused, nothing was recorded
	Free  int   // the tenant's budget left unleased after the grant
	Reset int64 // when the counted budget next goes down; 0 when nothing counts
}

// LeaseEnd says how a lease ended.
type LeaseEnd struct {
	Tenant Tenant
	ID     string
	Used   int   // slots that admitted a request
	Last   int64 // the last admission's time; meaningless when Used is 0
}

// CountedAfter is the time a lease must hold its last admission after to
// count against a lease requested at at: a window that holds an admission
// of the new lease starts after at − Window.
func CountedAfter(at int64) int64 { return at - Window.Milliseconds() }

// Grant is the rule every RateLeaseStore applies, given what it counted
// for the tenant after CountedAfter(r.At): used slots, and the earliest
// last admission among the leases holding them (ignored when used is 0).
func (r LeaseRequest) Grant(used int, earliestLast int64) LeaseGrant {
	g := LeaseGrant{Slots: max(0, min(r.Want, r.Limit-used))}
	g.Free = max(0, r.Limit-used-g.Slots)
	last, counted := earliestLast, used > 0
	if g.Slots > 0 && (!counted || r.Until-1 < last) {
		last, counted = r.Until-1, true
	}
	if counted {
		g.Reset = last + Window.Milliseconds()
	}
	return g
}

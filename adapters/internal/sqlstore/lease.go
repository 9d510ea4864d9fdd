package sqlstore

// TakeLease is the statement of incident.Store's Lease on both SQL
// adapters, with ? placeholders: name, owner, until, now (until and now
// in the adapter's time type). It inserts the lease, or takes it over when
// it is owner's or expired at now, and returns the owner only when owner
// holds it afterwards: no row means another owner does. The upsert locks
// the lease's row, so of concurrent takers one wins and the others see its
// lease.
const TakeLease = `INSERT INTO sweep_leases (name, owner, until) VALUES (?, ?, ?)
	ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
	WHERE sweep_leases.owner = excluded.owner OR sweep_leases.until <= ?
	RETURNING owner`

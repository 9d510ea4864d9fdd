// Package sqlstore is the one SQL seam: the store methods that are the
// same SQL on both SQL adapters (sqlite on database/sql, postgres on pgx),
// written once on a Driver, and the helpers both adapters read rows with.
//
// A Driver is an engine as the stores here use it: a read querier (Read),
// a write of one statement (Write), write transactions (InTx, whose Tx
// runs statements now with Exec, Query and QueryRow, or with the commit
// with Later, adds outbox events with InsertEvents, and serializes what no
// unique index can state with Serialize), read snapshots (Snapshot,
// CountAndPage), and the translation of the engine's errors. Its Dialect
// is what the engines spell differently: placeholders (SQL here is written
// with ?), the time codec (Unix milliseconds or timestamptz, read back
// through Time), "IN (…)" or "= ANY(…)", row locks, planner hints,
// boolean literals and a few expressions on times.
//
// Written once here: the access store (codes, validation and its lockout,
// logs, stats), the webhook store (endpoints and the delivery log), the
// auth store (organizations, API keys, console sessions and their purge),
// the rate-limit store (the leases of auth.LeaseLimiter), and the parts
// of the incident store (get, update, due incidents, analytics, the
// incidents threat reports read), of the responder store (the list) and
// of the webhook queue (finishing an attempt, updating endpoints in pages,
// pending counts) that are the same SQL. Stores hands out every port of an
// adapter, these and its own.
//
// What stays in each adapter is what its engine truly does differently:
// the idempotent create of an incident, the incident list (each engine
// reads its indexes its own way), the dispatch queue's reads, the spatial
// search for responders and the claims that keep its index in step, the
// webhook fan-out, claims and purges, the outbox and its event log (and
// so the threat reports' checkpoint on it), the sweep lease's one
// statement (TakeLease, here), and the transaction machinery behind its
// Driver.
package sqlstore

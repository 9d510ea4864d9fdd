// Package postgres implements every Sety store port on PostgreSQL (13 or
// later), through pgx v5 and its pool: the store for many instances.
//
//	db, err := postgres.Open(ctx, "postgres://sety@db.internal/sety")
//	defer db.Close()
//	s, err := sety.New(db)
//
// Any number of DBs, in any number of processes, may share one database
// and behave as one. The schema lives in migrations/, embedded and applied
// in order at Open, each version recorded in schema_migrations; Open holds
// a session advisory lock while it migrates, so instances starting together
// apply each migration once. The migrations create the contrib extensions
// cube and btree_gist (trusted: the database's owner may create them).
//
// Times are timestamptz, truncated to the millisecond as every Sety time
// is, and read back in UTC. Documents never filtered on (an incident's
// timeline, a code's visitor) are JSON in text columns, kept byte for byte.
//
// # One instance or many: how each change is serialized
//
// Transactions run at READ COMMITTED, and each port method takes the lock
// its invariant needs, so the methods stay correct with N instances:
//
//   - Read-change-write methods (UpdateIncident, UpdateEndpoint,
//     UpdateCode, UpdateLog, RevokeAPIKey, UpdateResponder, FinishAttempt)
//     lock the row first (SELECT ... FOR NO KEY UPDATE): a second change
//     of the row waits for the first to commit and then reads its result.
//   - Responder claims lock the responders in id order inside the
//     incident's transaction and decide on the locked row: one claim wins.
//   - Idempotency keys are a partial unique index and CreateIncident's
//     INSERT ... ON CONFLICT DO NOTHING: the losers write nothing and read
//     the winner's incident. The access code key is ON CONFLICT DO NOTHING
//     on settings too.
//   - Code uses are one conditional UPDATE (uses + 1 while below max_uses),
//     re-evaluated by PostgreSQL on the latest row version.
//   - What no unique index can state holds under a transaction-scoped
//     advisory lock: "no other active code with these digits" (CreateCode)
//     and a site's refusal count (the lockout).
//   - A new responder raced by two instances: the loser's insert hits the
//     primary key and its transaction runs again, now as an update.
//   - Deadlocks (which the lock orders above avoid) and serialization
//     failures are retried a few times from the start of the transaction.
//   - Webhook deliveries are leased with FOR UPDATE SKIP LOCKED in one
//     statement; fan-out is serialized by the publisher's lock (below).
//
// # The outbox, and reading it in commit order
//
// Every change writes its events into outbox_events in its own
// transaction. The table's position (a bigserial) is the order rows were
// inserted in, not the order their transactions commit in: transaction A
// may draw position 7, B position 8, and B commit first. A reader tailing
// by position that has read 8 would never read 7. (SQLite's single writer
// makes position commit order; PostgreSQL's concurrent writers do not.)
//
// So the outbox has a second order, publish_seq, given at publication.
// Publication (webhook.Queue.FanOut; AddDelivery for pings, which skip
// fan-out) runs under one advisory lock, pg_advisory_xact_lock, held until
// its transaction ends: one publisher at a time reads the pending events,
// marks them published with the next publish_seq numbers (counted in the
// one-row outbox_publisher table, so without gaps), and commits.
// PostgreSQL makes a commit visible before it releases the committer's
// locks, so the next publisher starts after everything earlier is visible
// and numbers after it. Hence an event with a publish_seq is committed, and
// every lower publish_seq was committed before it: a reader that tails by
// publish_seq ([DB.PublishedEvents], remembering the last number) never
// skips one, however many instances write and publish. Events of one
// subject keep their order too: the subject's row lock makes them commit,
// and draw positions, one after another, and publication takes pending
// events by position.
//
// The price is that an event is tailable once published, not at commit:
// the webhook worker of the committing instance is woken at commit and
// publishes at once, and any instance's worker publishes within its poll
// interval. Domain writes themselves never wait for each other's commits;
// only publishers take turns, a batch at a time.
//
// # Nearest responders
//
// A responder's position is also stored as a cube: the point in three
// dimensions on a sphere of the Earth's radius. Straight-line distance
// between such points grows with great-circle distance, so a GiST index
// over (org_id, environment, pos) of available responders answers "the k
// nearest" by KNN search (ORDER BY pos <-> point LIMIT k), walking the tree
// outwards from the point: no search boxes, correct at the poles and across
// the antimeridian. The few candidates are ranked exactly in Go.
package postgres

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
//   - Responder claims (in UpdateIncident and CreateIncident) lock the
//     responders in id order inside the incident's transaction and decide
//     on the locked rows: of concurrent claims, one wins.
//   - Idempotency keys are a partial unique index and CreateIncident's
//     INSERT ... ON CONFLICT DO NOTHING: the losers write nothing and read
//     the winner's incident. The access code key is ON CONFLICT DO NOTHING
//     on settings too.
//   - Code uses are one conditional UPDATE (uses + 1 while below max_uses),
//     re-evaluated by PostgreSQL on the latest row version.
//   - What no unique index can state holds under a transaction-scoped
//     advisory lock: "no other active code with these digits" (CreateCode),
//     a site's refusal count (the lockout), a tenant's rate-limit budget
//     (a grant of a lease counts the tenant's leases and adds its own
//     under the lock; ending a lease only lowers what a grant counts, so
//     ends take no lock).
//   - RevokeAPIKey revokes the key's console sessions in its transaction.
//     A session inserted concurrently (its foreign key takes only a key
//     share lock, which the revocation's row lock does not block) can be
//     missed; authentication refuses it anyway, as it reads the session's
//     key (package auth, "Sessions").
//   - The purges (PurgeDeliveries, PurgeEvents, PurgeSessions) delete a
//     batch selected FOR UPDATE SKIP LOCKED: two instances purging at once
//     never wait for each other and delete each row once.
//   - A new responder raced by two instances: the loser's insert hits the
//     primary key and its transaction runs again, now as an update.
//   - Deadlocks (which the lock orders above avoid) and serialization
//     failures are retried a few times from the start of the transaction.
//   - Webhook deliveries are leased under an advisory lock, one claim at a
//     time in any instance (a claim that finds nothing due takes none): it
//     sees every lease committed before it, so the per-endpoint and
//     per-tenant caps, and one incident's line (one delivery at a time to
//     an endpoint, in sequence order), hold across instances, and a
//     delivery is in at most one unexpired lease. Fan-out holds an advisory
//     lock of its own, so one fan-out at a time takes the pending events,
//     each exactly once, in commit order.
//
// # The outbox in commit order
//
// Every change writes its events into outbox_events in its own
// transaction, and readers in every instance follow the outbox by position
// (outbox.Log: the threat engine, the live event stream). A sequence
// (bigserial) alone would not do: its numbers are drawn at insert, not at
// commit, so transaction A may draw 7, B draw 8 and commit first, and a
// reader that has read 8 resumes after it and never reads 7.
//
// So positions are drawn under the outbox lock, a transaction-scoped
// advisory lock that a transaction takes as its last step, right before it
// inserts its events, and holds until it has committed. PostgreSQL makes a
// commit visible before it releases the transaction's locks, so the next
// holder draws its positions after every lower position is committed and
// visible: positions are commit order, a reader that sees position p sees
// every event below it, and a gap (a rolled-back insert) never fills. The
// consistent checkpoint of the threat engine's load is then simply the
// newest position its snapshot sees.
//
// The price is that transactions writing events commit one at a time: the
// lock is held from the insert of the events to the end of the commit,
// with nothing that can wait on another transaction in between. The lock,
// the inserts and COMMIT go out in one batch with the transaction's last
// writes, so the lock is held for server time and the WAL flush, not for
// a network round trip. Everything before (the row locks, the reads, the
// change itself) runs concurrently. With synchronous_commit on, the outbox
// admits about one commit per WAL flush, and concurrent commits no longer
// share a flush: that is the ceiling of changes per second across every
// instance, as SQLite's single writer has one too. BenchmarkOutboxCommits
// measures it: on a shared development machine (fdatasync about 0.17 ms)
// 16 writers made 220 to 390 creates a second against 500 to 570 without
// the lock. If that ever binds, the way out keeps the order and drops the
// wait: commit events without a position, and have one sequencer at a
// time number the committed ones in batches (readers, fan-out and the
// threat load's snapshot then go through it).
//
// # Round trips
//
// A write transaction sends BEGIN with its first statement, and the writes
// nothing in it reads after (an update of the row it locked, an insert,
// its events) with COMMIT, in one batch: a create without an idempotency
// key is one round trip; an update is two (lock and read; write and
// commit), three with a responder claim. A list's count and page go out
// as one batch in one snapshot.
//
// # List totals
//
// An incident list's total without a time filter sums incident_counts,
// each tenant's incidents counted by status, category and severity
// (migration 0010), instead of counting its index entries, which grows with
// the tenant's history. Deferred constraint triggers keep the counts at
// COMMIT, after the transaction holds the outbox lock, so the count rows
// add no lock waits of their own and no deadlock between transactions.
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

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
// Identifiers, keys, tenants, enums and event types are text COLLATE "C"
// (migration 0029): they compare byte by byte whatever the database's
// locale. Most databases are created with a linguistic one (en_US.UTF-8),
// whose collation rules made every index insert and probe of a key dearer
// (a quarter more of PostgreSQL's CPU a create), and ordered ids
// differently from SQLite and the memory store. People's text (names,
// descriptions, the access log's search text) keeps the database's
// collation. The conformance suite runs on a C database and on an
// en_US.utf8 one (pgtest.LinguisticLocale).
//
// # What is written here
//
// The store methods that are the same SQL on SQLite are written once, in
// adapters/internal/sqlstore, on this package's driver (driver.go: the
// pool, inTx's transactions, advisory locks for what sqlstore serializes,
// and PostgreSQL's dialect: numbered placeholders, timestamptz, = ANY
// arrays, FOR NO KEY UPDATE, FOR KEY SHARE and SKIP LOCKED). Here is only
// what PostgreSQL does its own way: the transactions and their round
// trips; the idempotent create of an incident (INSERT ... ON CONFLICT DO
// NOTHING) and the queued create with its look at the pool (CreateQueued,
// pool.go); the incident list and its totals; the dispatch queue's reads
// (QueuedNear, QueuedTenants, CountActive); the cube index of available
// responders (UpdateResponder, NearestAvailable, and the claims of an
// incident change); the webhook fan-out, claims and purges; the outbox,
// its sequencer and its event log, and the checkpoint of the threat
// reports on that log; and the sweep lease (one statement on the pool).
// The rate-limit store and the session purge are written once in sqlstore
// too: the advisory lock of a tenant's budget and FOR UPDATE SKIP LOCKED
// are this dialect's.
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
//   - A queued create (CreateQueued) looks at the pool in its
//     transaction under the tenant's pool lock, an advisory lock: queued
//     creates take it shared (they never wait on each other), changes
//     that can make a responder available (a release in an incident
//     change, UpdateResponder leaving one available) exclusively, before
//     any responder's row, and offer the responder after their commit. Either the create's look sees the
//     change, or the change's offer sees the incident (pool.go).
//   - A new responder raced by two instances: the loser's insert hits the
//     primary key and its transaction runs again, now as an update.
//   - Deadlocks (which the lock orders above avoid) and serialization
//     failures are retried a few times from the start of the transaction.
//   - Webhook deliveries are leased under an advisory lock, one claim at a
//     time in any instance (a claim that finds nothing due takes none): it
//     sees every lease committed before it, so the per-endpoint and
//     per-tenant caps, and one incident's line (one delivery at a time to
//     an endpoint, in sequence order), hold across instances, and a
//     delivery is in at most one unexpired lease.
//   - The engine's sweeps (due incidents, the dispatch queue) are leased in
//     the sweep_leases table (incident.Store.Lease): one instance at a time
//     sweeps, instead of every instance reading and locking the same rows.
//
// Nothing on the write path takes a lock that another create holds: a
// create inserts its incident, its events and its count delta (a queued
// one after its shared pool lock and its look), and commits; concurrent
// creates, from any instance and of any tenant, commit side by side, and
// PostgreSQL flushes their commits to the WAL together. Only a change
// that frees a responder of the tenant waits for its creates' commits,
// and they for its.
//
// # The event log
//
// Every change writes its events into outbox_events in its own
// transaction, and readers in every instance follow the events by position
// (outbox.Log: the live event stream, the threat engine, webhook fan-out).
// Positions must be dense, in commit order and never repeated: a reader
// that has read position p resumes after p and must find every event it
// has not seen after it. A sequence (bigserial) drawn at insert does not
// do that: transaction A may draw 7, B draw 8 and commit first, and a
// reader that has read 8 never reads 7. Until migration 0014, every
// writer of events took one advisory lock before drawing and held it to
// its commit: positions were commit order, and every change of every
// instance committed one at a time.
//
// Established systems solve it in three ways. Readers can read by
// transaction id below the visibility horizon, as Beckett and Emmett do on
// xid8: events carry pg_current_xact_id(), and a reader takes only events
// whose transaction id is below pg_snapshot_xmin(pg_current_snapshot()),
// in (xid, position) order, with a cursor of both; a transaction that
// started early and commits late is below the horizon only once it has
// ended. Readers can wait for gaps, as Marten's high-water mark does: it
// reads positions drawn at insert, stops at the first gap, and skips a gap
// older than a timeout, which loses the event of a transaction slower than
// the timeout (Marten 9.16 added checks of running transactions for
// exactly that). Or one process can order batches of committed events, as
// PgQ's ticker does: a tick records a snapshot, and a batch is every
// event visible in one tick's snapshot and not in the previous one.
// Message DB serializes writers with an advisory lock per stream category,
// the lock this adapter had, per category; sharding it per tenant would
// still serialize one busy tenant.
//
// This adapter follows PgQ, with the order made explicit: one sequencer at
// a time (outbox_sequence, migration 0014, under a transaction-scoped
// advisory lock that no writer takes) appends the committed events that
// wait to outbox_log, at the next positions, in the order they were
// inserted (seq, drawn at insert). Writers insert their events with no
// lock and no position. Readers read only the log, so an event that
// commits late is positioned late, after everything readers have seen:
// nothing is skipped, whatever a transaction's duration, and no reader
// waits for the slowest writer. Positions stay one integer (the stream's
// Last-Event-ID), dense, and gap-free but for purges. Insertion order
// keeps each subject's events in sequence order: a change of an incident
// locks its row, so it inserts its events only after the previous change
// committed. Beckett's (xid, position) order would not: two transactions
// changing one incident can take their ids in the opposite order.
//
// Events carry their writer's xid8 all the same, for the sequencer's own
// look-up, which takes PgQ's batches: a run that positioned everything it
// found records the snapshot it took once it held the lock
// (outbox_sequencer.snap, migration 0030). Every committed event whose
// writer had ended by that snapshot is then in the log, so the next run
// takes exactly the events of transactions that ended after it and before
// its own snapshot (pg_visible_in_snapshot in the one and not the other),
// walking outbox_events' index on xid from the recorded snapshot's xmin:
// a transaction still running is in neither snapshot and comes in the run
// after it ends, however long it ran. Such a run takes all the
// difference, not a batch (the recorded snapshot stands only for a run
// that took everything); until one has recorded a snapshot (the first
// after the migration), runs look as before: every event above the
// horizon (the oldest transaction running when the last complete run
// began) not yet in the log, by a probe of the log's unique index on
// event_id for each (outbox_waiting, which the threat load still reads).
// Under load the horizon is the oldest group of creates in flight, so
// those probes repeated most of the last run's events every run; with
// the snapshots, a run's look costs what ended since the last run: the
// sequencer's statement time a create, against the group insert's, fell
// by about a third under 64 clients (bench/README.md, issue 24's "two
// snapshots"). The horizon is the cluster's:
// a long transaction in any database holds it back, which makes the
// look longer, never wrong. The log keeps its unique index on event_id:
// other readers find an event's position by it, and a mistake in the
// sequencer would fail a run, never position an event twice.
//
// The looks run without JIT (the planner cannot know how many events lie
// above the horizon, and a guess of a third of the table made it compile
// the query with LLVM at every call, which cost PostgreSQL more CPU than
// a create's writes). Whether anything waits at all (the sequencer's
// first check, the fan-out's probe) is outbox_waiting_any, which stops at
// the first waiting event, from the newest (migration 0018). Both are
// planned once per connection (migration 0025), with sequential scans and
// sorts off for their own statements, so the only plan left walks
// outbox_events_xid from the horizon or the snapshot's xmin, whatever the
// planner guesses lies above it; they were dynamic SQL, planned with the
// horizon's value at every call, and parsing and planning them cost a
// third of their time (PostgreSQL spent 16 % of its CPU in the two under
// 32 clients).
//
// Who runs the sequencer: the webhook fan-out, in the transaction that
// then fans out what it positioned (it holds the same lock), and any
// reader of the log that finds events waiting: EventsAfter waits for a
// run that started after it asked, so a reader always sees every event
// committed before it asked; Head and the threat load only take the lock
// if it is free (an instance's start never waits on another's fan-out).
// Readers of one process share runs (a run serves every reader that asked
// before it started), and so do the readers of every instance: each run
// counts itself (outbox_sequencer.runs, migration 0019), and a reader that
// finds the lock taken, having read that r runs had committed, waits for
// run r + 2 to commit (it took the lock after run r + 1 committed, so
// after the reader asked), trying again every few milliseconds without a
// connection, instead of queueing on the lock with one and then running a
// run of its own. A fan-out that finds the lock taken rolls back and tries
// again the same way: with two instances, two to four readers and
// fan-outs used to wait on the lock at any moment, each holding a pooled
// connection. Fan-outs share their work the same way (migration 0023):
// each that took every event positioned (a batch not full) counts itself
// (outbox_cursors.runs) as it commits, and a fan-out that finds the lock
// taken, having read that f had committed, is done, with nothing taken,
// once f + 2 have: that one took the lock after the reader's read, so it positioned
// and took every event committed before. Each instance's webhook worker
// fans out after commits of its own (at most once every 50 ms under load,
// package webhook); with two instances their fan-outs
// took the lock in turn, each for the few events the other's had left,
// so the fan-out is leased too (LeaseFanOut, a row of sweep_leases): the
// leading worker fans out every 50 ms for all, the others at most every
// 250 ms, a safety net that finds little left (package webhook).
// Should the other fan-out's instance die, the lock comes free and the
// next try takes it; after a few tries a fan-out queues on the lock as
// before, so it is never starved. A try that finds the lock taken reads
// no events: the read after the lock's statement returns rows only in a
// transaction that holds it. The sequencer NOTIFYs sety_outbox as it commits; each
// instance LISTENs (outbox.Watcher) and wakes its stream and threat feed,
// so an event committed through one instance reaches another's streams
// within a run; they poll every second anyway.
//
// A read of the log bounded by a position (outbox.Filter.Through) runs no
// sequencer: it reads what is positioned. The threat feed of each
// instance reads so (package sety, threatfeed.go): it is woken by the
// sequencer's NOTIFY, not by its process's commits, whose events that
// process's fan-out positions within its gap, and asks for a run of its
// own once a second only, a safety net; its catch-ups ran or waited for
// a run each, as often as the fan-outs, and with two instances a third
// of the sequencer's calls were the feeds' (bench/README.md, "one
// sequencer's work"). The feed reads a page's envelopes, then the data of
// the events it must decode (another instance's creates, cancels,
// resolves), by their positions (outbox.Filter.Positions): a read from
// the first of them to the last read the creates of both instances,
// interleaved, and probed the incidents of all. The second read, bounded
// by the last of them, used to wait for a run of its own, so with two
// instances every catch-up of each feed cost two runs (the sequencer ran
// 2.6 times as often per create as with one). That read answers a create with a
// brief built from its incident's row (outbox.Filter.Brief, brief.go):
// the fields the threat engine reads of a create never change after it,
// and the row holds them in columns, so no create writes anything more
// for it, and the feed no longer copies and decodes the other instance's
// full snapshots (962 bytes each of pgscale's create). The brief is
// handed over typed (outbox.Brief): as JSON it was written here and
// decoded again by the feed. The first read, of every live create of
// every instance, is bare (outbox.Filter.Bare): from the log alone, which
// holds what tells the feed's events apart (id, tenant, type), without
// each event's row. The sequencer also writes each event's subject and
// sequence into its log row (migration 0028), so a create's brief is a
// probe of the log and one of its incident, not of the event's row as
// well, and envelopes come from the log alone; a log row positioned
// before that migration has neither, and its event's row gives them.
// Since the first read brings each create's subject, the feed reads the
// briefs of another instance's creates by subject (outbox.Briefer,
// Briefs in brief.go): one statement on the incidents' key, no second
// read of the log and no transaction; the log's read by positions is
// left for cancels, resolves, and a create whose incident is gone.
//
// The threat engine starts from a snapshot of the incidents (a REPEATABLE
// READ transaction) and follows the log from the newest position that
// snapshot sees. The snapshot may also hold changes committed but not yet
// positioned: their (subject, sequence) come with the checkpoint
// (threat.Checkpoint.Ahead), and the follower skips each once when the log
// brings it, so nothing counts twice or goes missing.
//
// Webhook fan-out follows the log with a cursor (outbox_cursors): it plans
// the deliveries of the events after the cursor, in log order, and moves
// the cursor, one row written per batch. Retention deletes published
// events (at or before the cursor) with their log rows. A fan-out reads
// its page from the log alone (position, event, tenant, type, time),
// then, in one statement, the endpoints of the page's tenants, and only
// for the events of tenants that have endpoints their subjects and
// sequences, never their payloads (a delivery reads its event's data when
// it is sent): a page of tenants without endpoints reads no event's row.
// It used to join every event of the page for its envelope (2 rows per
// create), and then read the payloads of those of tenants with
// endpoints, and the endpoints one statement per tenant.
//
// # Round trips
//
// A write transaction sends BEGIN with its first statement, and the writes
// nothing in it reads after (an update of the row it locked, an insert,
// its events) with COMMIT, in one batch. A transaction that is all one
// batch sends neither BEGIN nor COMMIT: the statements of one pipeline, up
// to its Sync, are one implicit transaction, committed at the Sync if all
// succeed. A create without an idempotency key is one round trip of two
// statements (the incident, its events), a queued one of three (its pool
// lock and its look at the pool first, one statement that fails the batch
// if a responder is available: queue_look, migration 0022), and it shares
// that round trip and its commit with the creates beside it (below); an
// update is two round trips (lock and read; write and commit), three with
// a responder claim. A list's count and page go out as one batch in one
// snapshot.
//
// # Group commit of creates
//
// PostgreSQL pays for every transaction, whatever it writes: a
// transaction id, snapshots, a commit record, the wait for the commit's
// WAL flush, a backend woken and answered, and a parse, bind and executor
// start per statement; its backends wait on each other's WAL flushes. So
// creates that decide nothing in Go (no idempotency key, no responder
// claimed: among others, every create that waits in the dispatch queue)
// are committed in groups (group.go), as SQLite's writer commits its
// transactions: one
// group is in flight per instance; a create that finds none goes at
// once, and the creates that queue meanwhile go together in the next
// group, up to 64. With one group in flight no group waits for more
// creates (a second slot, tried, halved the groups, and each group pays
// about a millisecond of PostgreSQL's CPU for its commit whatever its
// size); with more slots a group would wait, as PostgreSQL's
// commit_delay does, while another is being committed and fewer than
// four creates wait, for at most a millisecond. A lone create never
// waits. A group is one
// implicit transaction of one pipeline of two statements: the queued
// creates' looks at the pool in one statement (queue_looks, migrations
// 0024 and 0027: the group's tenants' shared pool locks, each once, which
// the group holds to its commit, then every create's look in one query,
// in a snapshot taken after every lock was granted, so the look's promise
// holds as for a create alone; a group of 8 costs PostgreSQL 0.6–0.8 times
// the CPU of 0024's lock and look per create in turn), then one
// statement that inserts every incident of the group and every event (the
// incidents' insert a data-modifying WITH of the events'), each from
// arrays (unnest, rows.go: one statement text, prepared once per
// connection, whatever the group's size). The events'
// insert draws their insertion numbers in the order of the arrays, each
// create's events together and in sequence order, so the sequencer's
// promises are a create's alone. Under 32 and 64 clients a group held 3 to
// 5 creates, and a create cost PostgreSQL 0.5 to 0.8 times the CPU it
// cost alone, and Sety 0.7 to 1 times (bench/README.md, issue 24's group
// commit). A group's parameters are encoded into a buffer the group keeps
// and sent through pgconn (groupsend.go): pgx shrinks its own buffer back
// before every statement, and regrowing it for each group's documents was
// a third of what a server allocated under load.
//
// A group commits all or nothing. When a create's look fails it (a
// responder is available; the looks' statement names the create in its
// error's DETAIL) or any statement does, PostgreSQL rolls the group back;
// the create whose look failed then runs alone, as a create
// did before groups (with its retries and its own error), and the others
// go again as a group; a failure of the shared inserts or of the
// connection sends every create of the group to run alone. A create rerun
// after a commit whose answer was lost fails on its incident's primary
// key, never writing a second incident. Creates with an idempotency key
// are not grouped (whether the key is taken is decided at their insert,
// ON CONFLICT, and read back in the transaction), nor creates that claim
// a responder (they lock its row and decide on it).
//
// No one is answered before the Sync that committed their create has
// returned. A caller whose context ends while its create waits in the
// queue gets the context's error, and the create is never sent; once its
// create is in a group, the caller is answered the group's outcome, which
// is what the store holds, unless every caller of the group has given up:
// then the group's statements are cancelled, and each caller gets its
// context's error, as a create alone cancelled during its commit would.
//
// # What a create writes
//
// A create writes its incident's row and the entries of the indexes a
// query needs, its events, and its count delta; the sequencer then appends
// its events to the log. What no reader needs went (migration 0021): the
// incident's foreign key to its organization, whose check locked the
// organization's row (KEY SHARE) in every create, so that concurrent
// creates of a tenant wrote a MultiXact each, is a plain look-up in the
// count-delta trigger (no port deletes an organization); the threat
// engine's start-up load reads each organization's incidents through the
// tenant's index instead of an index of its own; the metrics' active
// counts come from the list totals' counts and the queue's index
// (CountActive) instead of an index of the active incidents.
//
// # List totals
//
// An incident list's total without a time filter is read from counts of
// each tenant's incidents by status, category and severity, instead of
// counting its index entries, which grows with the tenant's history.
// Triggers append each change's delta to incident_count_deltas, rows no
// two transactions share: one per statement that inserts or deletes
// incidents, summed by tenant and kind (a group of creates writes one, not
// one per incident: migration 0026), and -1 and +1 per change of status;
// the sequencer folds the committed deltas into incident_counts, which
// only it writes, in the transaction that deletes them. A total is the
// sum of both, read in one snapshot: exact at every read, with no row
// every create updates (migration 0010 kept one such row per tenant and
// kind: concurrent creates of a tenant waited on each other's commits).
//
// The fold looks for deltas from a horizon, as the sequencer's look for
// events does: each delta carries its writer's xid8, every transaction
// below the horizon a run read before it folded had ended, so once the
// run has folded every committed delta it found, none will ever wait
// below that horizon (outbox_sequencer.folded), and the next run walks
// incident_count_deltas_xid from there. It used to delete every delta
// through the whole table, whose heap held the dead rows of every delta
// folded since autovacuum last came by: hundreds of pages walked in every
// run, for a few live rows.
//
// # Connections
//
// Open sizes the pool for commits, not for CPU: DefaultPoolSize, unless
// the URL sets pool_max_conns. A create holds its connection through its
// commit's WAL flush, which needs no CPU, and PostgreSQL flushes the
// commits of concurrent transactions together: a pool as small as pgx's
// default (4 on a 2-core machine) made most of 32 concurrent creates wait
// for a connection while the database had room. PoolStats reports the
// waits (sety_store_pool_* with sety.WithMetrics).
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

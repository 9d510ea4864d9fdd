// Package sqlite implements every Sety store port on SQLite, through the
// pure-Go modernc.org/sqlite driver (no cgo).
//
// The database runs in WAL mode with busy_timeout set first, foreign keys
// on and synchronous=FULL, so an acknowledged write survives a crash or a
// power cut. Writes go through one connection (SQLite allows one writer at a
// time; a pool of writers would only trade waiting for SQLITE_BUSY errors),
// driven by one goroutine that commits in groups: the write transactions
// queued while it commits run next as one BEGIN IMMEDIATE transaction, each
// in its own savepoint, so a failing one rolls back alone and one fsync
// serves them all. No caller is answered before the commit holding its
// change has returned; if that commit fails, every caller in it gets the
// error. If SQLite rolls a batch's transaction back itself (an I/O error,
// a full disk, out of memory), its rollback hook tells the writer: nothing
// more of the batch runs, no statement commits on its own, and every
// caller in it gets the error.
//
// Reads use a separate pool that sees every committed write; its queries
// are prepared once per connection and kept. A read sees what any process
// committed before it began; an incident whose stored text is the text
// last decoded for it is copied from the decoded form kept (a few thousand
// of them) instead of decoded again, or, for incident.Service.Peek (the
// HTTP get), handed out as it is (incident.SharedReader: the same value,
// so the same incident.Version, while the text stays the same).
//
// A get (Peek) answers from the kept incident without reading its row
// while one shared check shows that nothing changed the row since it was
// read, and stays exact: it reflects every write acknowledged before it
// began, by this process or any other on the file (stamp.go). A number,
// incident_stamp.n, moves by one for every incidents row any transaction
// inserts, updates or deletes (SQLite triggers, migrations/0021: no write
// path, the store's or anyone's, can leave it behind, and a rolled-back
// change takes its numbers back). The writer knows which numbers each of
// its commits holds and which incidents they changed (temporary triggers
// on its own connection note them; a commit hook of the group commit takes
// them just before COMMIT) and records that before it answers the batch's
// callers. A get waits for a check that began after it arrived (one read
// of the stamp on connections of their own, whose read transaction stays
// open until the next check's began while this process commits nothing,
// so that the next takes no OS lock: stamphold.go; shared by every get
// waiting; a get that would check alone first lets the goroutines ready
// to run go, so that the gets arriving meanwhile share its check:
// stampcheck.go); the check applies each number up to the one it read: a
// commit of this process un-keeps the incidents it changed, and a number no
// recorded commit holds (another process's, or one of this process's that
// fell out of the bounded log, or whose COMMIT reported an error) un-keeps
// every incident read before it. A kept incident not un-kept answers;
// otherwise the get reads its row, with the stamp in the same statement,
// and keeps it. Rate-limit leases, access logs and webhook bookkeeping
// change no incident, so they do not disturb what is kept.
//
// A handle that is alone on its file skips the check: there is no other
// process's change to see (alone.go). Handles hold locks on a file beside
// the database (path + "-instances"; Linux's open file description locks,
// fcntl(2), which the kernel drops with the process however it ends): a
// read lock while open, a write lock while alone. A handle takes the write
// lock once no other has the file open, reads the stamp once, and then a
// get applies this process's own recorded commits in memory and answers.
// An opening handle knocks (a lock on a second byte) and waits, before it
// writes anything, for its read lock, which the alone handle gives by
// stepping back within 50 ms of the knock (at most Options.BusyTimeout,
// after which Open fails saying so). A writer that takes no part (a
// release before this one, a sqlite3 shell) is not seen by the locks: an
// alone handle reads the stamp every 50 ms, and once a number turns up
// that no commit of its own holds, it never answers alone again. On other
// systems no handle is ever alone, and every get checks.
//
// Peek reads a row on connections of its own (as many as the
// read pool's), through the driver's prepared statement directly
// (database/sql's Conn.Raw) and with no context to watch: a get never
// waits behind a list on the read pool, and its one-row read skips
// database/sql's per-query work and the driver's cancellation watcher
// (peekread.go). It hands SQLite the text kept for the row, and SQLite
// answers NULL for a column that still holds it: the driver copies the
// row's text into Go only when it changed. The WAL is
// checkpointed by its own connection every tenth of a second, not by the
// writer (small copies: when the log is past its limit, the writer's own
// checkpoint between two batches, which starts it over, has little left).
// When the log starts over after a complete checkpoint, the writer cuts its
// file back to Options.WALSizeLimit (64 MiB by default, SQLite's
// journal_size_limit): a stretch of load in which readers kept it from
// starting over no longer leaves the file at its largest size for good.
//
// The writer keeps its statements prepared, the one-row queries of a
// write transaction too (a keyed create's look-up of its key, a claim's
// read of the responder, an update's read of its row).
//
// An incident's JSON is the one the service encoded for the change's last
// event (incident.Effects.Encoded) when it is handed one: a change encodes
// its incident once. A follower of the log that needs no payloads reads
// events without them (outbox.Filter.Envelopes: no data is copied, no delta
// applied).
//
// A create writes every index of the incidents table, so the table keeps
// only the indexes a list, filter or engine query reads, each named with
// its query in migrations/*_lighter_create.sql (explain_test.go checks the
// plans). The tenant indexes hold created_at ascending
// (migrations/0022_tenant_indexes_ascending.sql): a new incident's entry
// goes after its tenant's newest, at the end of the tree for the last
// tenant in it, where SQLite starts a new page instead of redistributing
// three, and the lists read them backwards, newest first, with no sort. Events are stored once per transaction: an incident's later
// events of the transaction that made its first (a create's
// incident.dispatching after incident.created) keep a byte delta against
// the first one's data, and every reader gets back the bytes written
// (eventdelta.go). An event's position is its rowid, without
// AUTOINCREMENT (migrations/0023: no read and write of sqlite_sequence per
// insert): one above the table's largest, which nothing deletes (retention
// keeps the log's head), so positions never repeat. Opening a database
// written before that migration rebuilds the events table once, in the
// migration's transaction: 38.7 s for 300,000 events of 1.3 KB on the
// 2-core test machine under load (bench/README.md, "events without
// AUTOINCREMENT"), a pause of the first start after an upgrade. The
// webhook fan-out's progress is one row, a watermark position
// (outbox_fanout, migrations/0020_fanout_watermark.sql): the fan-out reads the events above it through the table's key (into Go
// only those of tenants with an endpoint: an event of a tenant without one
// has no delivery to plan) and moves it past those it took, and up to the
// head when it took fewer than its limit, in the transaction that inserts
// their deliveries, so
// an event's row is written once, by the insert, and never again to mark
// it published (only an event published at its insert, a ping's, keeps a
// published_at, which the fan-out passes over). Retention deletes the
// events below the watermark as a range of the key, and those with a
// published_at by age.
//
// The schema lives in migrations/, embedded and applied in order at Open;
// the applied versions are recorded in schema_migrations. The group commit
// and the checkpointer are internal/groupcommit.
//
// [DB.Backup] copies the database to a new file while it is in use
// (VACUUM INTO: one read transaction, so a consistent snapshot of every
// committed write, writers going on meanwhile); the copy opens with Open.
// Copying the file itself while a server runs is not a backup: the WAL
// holds the newest writes.
//
//	db, err := sqlite.Open(ctx, "sety.db", nil)
//	defer db.Close()
//	s, err := sety.New(db)
//
// # What is written here
//
// The store methods that are the same SQL on PostgreSQL are written once,
// in adapters/internal/sqlstore, on this package's driver (driver.go: the
// read pool, the writer's transactions, and SQLite's dialect: ?
// placeholders, times as Unix milliseconds, IN lists, INDEXED BY hints).
// Here is only what SQLite does its own way: the writer and the read pool;
// the idempotent create of an incident (a look-up and an insert in one
// write transaction), and the queued create (incident.QueueingStore: the
// look at the R*Tree of available responders in that same transaction,
// which holds the write lock, so no responder freed by any process falls
// between the look and the commit; the writer skips the look for a tenant
// it knows has no available responder at all, knowledge read from the
// database and dropped at any responder write, any commit by another
// connection (PRAGMA data_version, read once a batch) and any rollback:
// available.go); the incident list (one range of the status index per
// status); the dispatch queue's reads (QueuedNear, QueuedTenants,
// CountActive); the R*Tree of available responders (UpdateResponder,
// NearestAvailable, and the claims of an incident change); the webhook
// fan-out, claims and purges; the outbox and its event log, and the
// checkpoint of the threat reports on it; and the sweep lease (through the
// writer). The rate-limit store is written once in sqlstore too: the
// single writer serializes its grants across every process over the file.
package sqlite

package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/outbox"
)

// The seam between the stores written once here and the two engines. A
// store method that is the same SQL on both engines is written once, on a
// Driver; what an engine spells its own way is asked of its Dialect. Each
// SQL adapter implements Driver over its own machinery (SQLite's batching
// writer and read pool, PostgreSQL's pool and round-trip-saving
// transactions) and keeps the store methods that are not the same SQL
// (see its doc.go).
//
// Queries here are written with ? placeholders, one per argument in order;
// the driver rewrites them for its engine (Dialect.Placeholders). Errors
// of a driver's executors come out as the engine's; a store method passes
// them through Driver.Translate (InTx does so itself).

// Querier runs reads: the read pool, a read-only snapshot, or a write
// transaction.
type Querier interface {
	// Query runs a query of many rows. The caller closes them.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// QueryRow runs a query of one row; a query that finds none scans
	// ErrNoRows.
	QueryRow(ctx context.Context, query string, args ...any) RowScanner
}

// Tx is a write transaction. It is valid only while the function InTx
// passed it to runs.
type Tx interface {
	Querier
	Dialect
	// Exec runs a statement now and returns how many rows it changed.
	Exec(ctx context.Context, query string, args ...any) (rowsChanged int64, err error)
	// Later runs a write whose result nothing in the transaction reads:
	// PostgreSQL sends it with COMMIT, without a round trip of its own;
	// SQLite, whose writer is in process, runs it at once. Its error, if
	// any, fails the transaction when it ends.
	Later(query string, args ...any)
	// InsertEvents adds events to the outbox in this transaction, as the
	// engine's outbox orders them; an error fails the transaction as
	// Later's does. Nothing that can wait on another transaction may follow
	// it (PostgreSQL holds its outbox lock from here to the commit).
	InsertEvents(events []outbox.Event)
	// Serialize makes the transactions that ask for lock on the same name
	// run one after another from here until they end, in every instance:
	// what no unique index can state (no other active code with these
	// digits; a site's refusal count) is decided under it. PostgreSQL takes
	// a transaction-scoped advisory lock; SQLite's single writer runs every
	// write transaction alone already.
	Serialize(ctx context.Context, lock Lock, name string) error
}

// Lock names what Tx.Serialize serializes on.
type Lock int

// The locks of the stores written here; each driver maps them to its own.
const (
	// LockCodeDigits is a tenant's access code digits (CreateCode).
	LockCodeDigits Lock = iota + 1
	// LockSite is a tenant's site (the refusal count of access validation).
	LockSite
	// LockRate is a tenant's rate-limit budget (TakeLease).
	LockRate
)

// Stmt is a query and its arguments.
type Stmt struct {
	SQL  string
	Args []any
}

// Driver is an engine as the stores written here use it.
type Driver interface {
	Dialect
	// Read returns the querier of reads outside any transaction: each
	// query sees every write committed before it began.
	Read() Querier
	// Write runs one statement in a write transaction of its own and
	// returns how many rows it changed, once it is committed.
	Write(ctx context.Context, query string, args ...any) (rowsChanged int64, err error)
	// InTx runs fn in a write transaction, committed when fn returns nil
	// (and rolled back otherwise), and returns fn's error or the commit's,
	// translated. PostgreSQL may run fn again after a deadlock or a
	// serialization failure, so fn reads what it changes inside the
	// transaction and sets every result it returns anew.
	InTx(ctx context.Context, fn func(Tx) error) error
	// Snapshot runs fn's reads in one read-only transaction: they all see
	// one snapshot of the database.
	Snapshot(ctx context.Context, fn func(Querier) error) error
	// CountAndPage reads count (one row of one integer) and page in one
	// snapshot, and hands page's rows to read (which need not close them).
	// It is a list's total and page: PostgreSQL sends both as one batch.
	CountAndPage(ctx context.Context, count, page Stmt, read func(page Rows) error) (total int, err error)
	// Translate maps the engine's errors to setyerr kinds; other errors,
	// and errors already translated, come out as they are.
	Translate(err error) error
}

// Dialect is what the two engines spell differently in the SQL written
// here.
type Dialect interface {
	// Placeholders rewrites the ? placeholders of query into the engine's
	// own ($1, $2, … for PostgreSQL).
	Placeholders(query string) string
	// Text is JSON text (b, which nobody changes while the statement
	// runs) as an argument for a TEXT column: the bytes themselves for
	// SQLite, without a Go string's copy of them (its driver copies an
	// argument anyway), which binds them as a BLOB, so SQLite's statements
	// take it through CAST(? AS TEXT) (a STRICT table's TEXT column refuses
	// a BLOB; json_extract would read one as JSONB); a string for
	// PostgreSQL, for which the cast changes nothing.
	Text(b []byte) any
	// Time is t as an argument for a time column: Unix milliseconds for
	// SQLite, timestamptz (truncated to the millisecond) for PostgreSQL;
	// the zero time is NULL. A time column is read into a Time.
	Time(t time.Time) any
	// In is the condition that column is one of n values (n > 0):
	// "column IN (?, ?, …)" for SQLite, which takes the values as n
	// arguments, or "column = ANY(?)" for PostgreSQL, which takes them as
	// one array argument (array is true).
	In(column string, n int) (cond string, array bool)
	// ForUpdate locks the rows a select in a write transaction reads until
	// the transaction ends, for a change of them: PostgreSQL's
	// " FOR NO KEY UPDATE"; "" for SQLite, whose writer runs each write
	// transaction alone.
	ForUpdate() string
	// ForKeyShare keeps the rows a select in a write transaction reads
	// from being deleted until it ends, as a foreign key to them would:
	// " FOR KEY SHARE" for PostgreSQL, "" for SQLite.
	ForKeyShare() string
	// SkipLocked locks the rows a subquery of a batch's delete selects and
	// passes over those another transaction holds, so two instances
	// purging at once never wait for each other: PostgreSQL's
	// " FOR UPDATE SKIP LOCKED"; "" for SQLite, whose writer runs each
	// write alone.
	SkipLocked() string
	// IndexedBy makes a select from a table read it through index: SQLite's
	// " INDEXED BY index", where its planner needs telling; "" for
	// PostgreSQL.
	IndexedBy(index string) string
	// Bool is the literal of b, as a boolean column holds it.
	Bool(b bool) string
	// Contains is the condition that text column holds the argument of
	// its one placeholder as a substring, taken literally (no LIKE
	// wildcards).
	Contains(column string) string
	// HourOf, WeekdayOf and DateOf are the hour (0-23), the day of the
	// week (0 is Sunday) and the date (YYYY-MM-DD) of time column, in UTC.
	HourOf(column string) string
	WeekdayOf(column string) string
	DateOf(column string) string
}

// ErrNoRows is what a QueryRow that found no row scans, on either engine
// (pgx.ErrNoRows is sql.ErrNoRows too, for errors.Is).
var ErrNoRows = sql.ErrNoRows

// Time is a time column as read: NULL is the zero time, anything else is
// in UTC. It scans SQLite's Unix milliseconds and PostgreSQL's
// timestamptz alike.
type Time struct{ time.Time }

// Clock is t as a domain time.
func (t Time) Clock() clock.Time { return clock.At(t.Time) }

// Scan implements sql.Scanner, which both drivers call.
func (t *Time) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		t.Time = time.Time{}
	case int64:
		t.Time = time.UnixMilli(v).UTC()
	case time.Time:
		t.Time = v.UTC()
	default:
		return fmt.Errorf("sqlstore: a time column holds %T, not Unix milliseconds or a timestamp", src)
	}
	return nil
}

package postgres

import (
	"context"
	"errors"
	"math"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
)

// The pool lock of a live tenant is a transaction-scoped advisory lock
// (class lockPoolOf, on the organization's id), held to the end of the
// transaction that takes it:
//
//   - a queued create (CreateQueued) takes it shared before it looks at
//     the pool, in one statement (poolLook; a group's looks in one,
//     queueLooks): queued creates of one tenant share it and never wait
//     on each other;
//   - a change that can make a responder available, or move an available
//     one (a release in an incident change, UpdateResponder leaving the
//     responder available), takes it exclusively before it locks any
//     responder, and offers the responder only after its commit.
//
// Under READ COMMITTED each statement takes a new snapshot, so a create
// that waited for a change's commit sees the change in its look, and a
// change that waited for a create's commit offers its responder to a queue
// that holds the incident. The lock is always taken before any responder
// row (and after the incident row of an incident change, which creates
// never wait on), so no two transactions wait on each other in a cycle.
// Test environments have no dispatch queue: they take no pool lock.
//
// An advisory lock, not a row lock: a shared lock on the organization's
// row (FOR SHARE, which the foreign key's KEY SHARE would then reuse) was
// measured at 60-180 µs of PostgreSQL's time per create under 32 clients,
// as every new locker of a row that others hold writes a MultiXact of all
// of them; the shared advisory lock is a lock-table entry, about 10 µs.
// Two organizations whose ids share a 32-bit hash share a lock: their
// creates and changes may wait on each other, never more.

// errPoolFirst makes inTx run UpdateResponder's transaction again, taking
// the pool lock first.
var errPoolFirst = errors.New("postgres: the pool lock is taken first")

// lockPool takes tenant's pool lock exclusively in tx (nothing for a test
// environment).
func lockPool(ctx context.Context, tx *txn, tenant auth.Tenant) error {
	if tenant.Env != auth.Live {
		return nil
	}
	return lockName(ctx, tx, lockPoolOf, tenant.OrgID)
}

// releasesPool reports whether a responder stored as r may be offered to
// the queue after the change: an available responder of a live tenant
// (made available, moved or put on duty).
func releasesPool(tenant auth.Tenant, r *incident.Responder) bool {
	return tenant.Env == auth.Live && r != nil && r.Status == incident.Available
}

// The statement of a queued create: the tenant's pool lock, shared, then
// the look at the pool that fails with SQLSTATE responderAvailable if an
// available responder is within reach (queue_look, migration 0022: a
// volatile function, so the look's snapshot is taken once the lock is
// granted). A group of queued creates sends the looks of all in one
// statement (queueLooks).
const (
	queueLookStmt      = `SELECT FROM queue_look($1, $2, $3, cube($4::float8[]), cube($5::float8[], $6::float8[]), $7::float8)`
	responderAvailable = "SY001"
)

// poolLook is the pool lock and look of a queued create of tenant's at at,
// within withinM metres (great-circle distance, as the chord between the
// points onSphere: the same order, so the same answer but for the last
// bits of rounding at the very edge of the range).
type poolLook struct {
	org, env  string
	q, lo, hi []float64 // the point onSphere and the corners of its reach
	chord     float64
}

func newPoolLook(tenant auth.Tenant, at geo.Point, withinM float64) *poolLook {
	q := onSphere(at)
	lo, hi := reach(q, withinM)
	chord := 2 * geo.EarthRadiusMeters * math.Sin(math.Min(withinM/geo.EarthRadiusMeters, math.Pi)/2)
	return &poolLook{org: tenant.OrgID, env: string(tenant.Env), q: q, lo: lo, hi: hi, chord: chord}
}

// queue queues the look on b, as a statement of its own.
func (l *poolLook) queue(b *pgx.Batch) {
	b.Queue(queueLookStmt, lockPoolOf, l.org, l.env, l.q, l.lo, l.hi, l.chord)
}

// queueLooksStmt is the looks of a group of queued creates (queue_looks,
// migrations 0024 and 0027): the pool lock of each tenant of the group,
// then, in a snapshot taken once they are granted, every create's look,
// as queue_look; the first create that finds an available responder fails
// it with SQLSTATE responderAvailable and its number (from 1) as DETAIL.
const queueLooksStmt = `SELECT FROM queue_looks($1, $2, $3, $4, $5, $6, $7)`

// queueLooks queues on b the looks in one statement.
func queueLooks(b *pgx.Batch, looks []*poolLook) {
	orgs, envs, chords := make([]string, len(looks)), make([]string, len(looks)), make([]float64, len(looks))
	q, lo, hi := make([]float64, 0, 3*len(looks)), make([]float64, 0, 3*len(looks)), make([]float64, 0, 3*len(looks))
	for i, l := range looks {
		orgs[i], envs[i], chords[i] = l.org, l.env, l.chord
		q, lo, hi = append(q, l.q...), append(lo, l.lo...), append(hi, l.hi...)
	}
	b.Queue(queueLooksStmt, lockPoolOf, orgs, envs, q, lo, hi, chords)
}

// refusedLook returns the index (from 0) of the look, of looks sent
// together, that err reports finding an available responder (the one
// look sent alone, or queue_looks' DETAIL), or -1.
func refusedLook(err error, looks int) int {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != responderAvailable {
		return -1
	}
	if looks == 1 {
		return 0
	}
	i, perr := strconv.Atoi(pe.Detail)
	if perr != nil || i < 1 || i > looks {
		return -1
	}
	return i - 1
}

// refused maps the look's failure to incident.ErrResponderAvailable.
func refused(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == responderAvailable {
		return incident.ErrResponderAvailable
	}
	return err
}

// reach returns the corners of the cube around q (a point onSphere) that
// holds every point within withinM metres of it on the ground: the chord
// of an arc of withinM, and a metre for rounding.
func reach(q []float64, withinM float64) (lo, hi []float64) {
	c := 2*geo.EarthRadiusMeters*math.Sin(math.Min(withinM/geo.EarthRadiusMeters, math.Pi)/2) + 1
	lo, hi = make([]float64, 3), make([]float64, 3)
	for i := range q {
		lo[i], hi[i] = q[i]-c, q[i]+c
	}
	return lo, hi
}

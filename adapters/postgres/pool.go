package postgres

import (
	"context"
	"errors"
	"math"

	"github.com/jackc/pgx/v5"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
)

// The pool lock of a live tenant is a row lock on its organization's row,
// held to the end of the transaction that takes it:
//
//   - a queued create (CreateQueued) takes it FOR SHARE before it looks at
//     the pool: queued creates of one tenant share it and never wait on
//     each other, and the KEY SHARE lock that the incident's foreign key
//     then takes on the same row is already held (FOR SHARE is stronger),
//     so the create writes no more row locks than before;
//   - a change that can make a responder available, or move an available
//     one (a release in an incident change, UpdateResponder leaving the
//     responder available), takes it FOR NO KEY UPDATE before it locks any
//     responder, and offers the responder only after its commit.
//
// FOR NO KEY UPDATE conflicts with FOR SHARE but not with KEY SHARE, so
// foreign keys of other tables (keys, endpoints, codes) never wait on it.
// Under READ COMMITTED each statement takes a new snapshot, so a create
// that waited for a change's commit sees the change in its look, and a
// change that waited for a create's commit offers its responder to a queue
// that holds the incident. The lock is always taken before any responder
// row (and after the incident row of an incident change, which creates
// never wait on), so no two transactions wait on each other in a cycle.
// Test environments have no dispatch queue: they take no pool lock.

// errPoolFirst makes inTx run UpdateResponder's transaction again, taking
// the pool lock first.
var errPoolFirst = errors.New("postgres: the pool lock is taken first")

// lockPool takes tenant's pool lock exclusively in tx (nothing for a test
// environment).
func lockPool(ctx context.Context, tx *txn, tenant auth.Tenant) error {
	if tenant.Env != auth.Live {
		return nil
	}
	_, err := tx.Exec(ctx, `SELECT FROM organizations WHERE id = $1 FOR NO KEY UPDATE`, tenant.OrgID)
	return err
}

// releasesPool reports whether a responder stored as r may be offered to
// the queue after the change: an available responder of a live tenant
// (made available, moved or put on duty).
func releasesPool(tenant auth.Tenant, r *incident.Responder) bool {
	return tenant.Env == auth.Live && r != nil && r.Status == incident.Available
}

// availableWithin takes tenant's pool lock shared and then reports whether
// the tenant has an available responder within withinM metres of at, in
// two statements sent together: the look is the second, so its snapshot
// is taken once the lock is granted. The GiST index walks from at within
// the cube that holds every point in reach; the nearest by chord is the
// nearest on the ground, so one row decides, its distance checked exactly.
func availableWithin(ctx context.Context, tx *txn, tenant auth.Tenant, at geo.Point, withinM float64) (bool, error) {
	q := onSphere(at)
	lo, hi := reach(q, withinM)
	b := &pgx.Batch{}
	b.Queue(`SELECT FROM organizations WHERE id = $1 FOR SHARE`, tenant.OrgID)
	b.Queue(`SELECT lng, lat FROM responders WHERE org_id = $1 AND environment = $2 AND status = 'available'
		AND pos <@ cube($4::float8[], $5::float8[]) ORDER BY pos <-> cube($3::float8[]) LIMIT 1`,
		tenant.OrgID, string(tenant.Env), q, lo, hi)
	br := tx.send(ctx, b)
	_, err := br.Exec()
	var p geo.Point
	if err == nil {
		err = br.QueryRow().Scan(&p[0], &p[1])
	}
	if cerr := br.Close(); cerr != nil && (err == nil || errors.Is(err, errNoRows)) {
		err = cerr
	}
	if errors.Is(err, errNoRows) {
		return false, nil
	}
	return err == nil && geo.Distance(at, p) <= withinM, err
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

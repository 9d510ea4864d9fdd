package postgres

import (
	"context"
	"math"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
)

// responderStore is incident.ResponderStore: the update and the nearest
// search, which keep the spatial index (pos), here; the list written once
// (sqlstore.Responders).
type responderStore struct {
	sqlstore.Responders
	db *DB
}

const selectResponder = `SELECT ` + sqlstore.ResponderColumns + ` FROM responders`

var scanResponder = sqlstore.ScanResponder

// onSphere returns p as a point in three dimensions on a sphere of the
// Earth's radius, in metres: the coordinates of the cube column pos. The
// straight line between two such points (the chord) is shorter than the
// great circle between them, and grows with it.
func onSphere(p geo.Point) []float64 {
	lat, lng := p.Lat()*math.Pi/180, p.Lng()*math.Pi/180
	r := geo.EarthRadiusMeters
	return []float64{r * math.Cos(lat) * math.Cos(lng), r * math.Cos(lat) * math.Sin(lng), r * math.Sin(lat)}
}

// writeResponder returns the statement that inserts r (exists=false) or
// updates it, with its position for the spatial index.
func writeResponder(r *incident.Responder, exists bool) (string, []any) {
	args := []any{r.ID, r.OrgID, string(r.Environment), r.Name, r.Phone, r.Location.Lng(), r.Location.Lat(), onSphere(r.Location),
		string(r.Status), r.IncidentID, at(r.IdleSince.Time), at(r.UpdatedAt.Time)}
	query := `UPDATE responders SET name = $4, phone = $5, lng = $6, lat = $7, pos = cube($8::float8[]), status = $9, incident_id = $10,
		idle_since = $11, updated_at = $12 WHERE id = $1 AND org_id = $2 AND environment = $3`
	if !exists {
		query = `INSERT INTO responders (id, org_id, environment, name, phone, lng, lat, pos, status, incident_id, idle_since, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, cube($8::float8[]), $9, $10, $11, $12)`
	}
	return query, args
}

// UpdateResponder locks the responder's row, or finds none and inserts
// one. A change that leaves a live tenant's responder available runs
// again under the tenant's pool lock, taken first (pool.go). Two instances creating one new responder at once both find none;
// the second insert hits the primary key and its transaction runs again,
// now finding (and waiting for) the first's row, as if it had come second.
func (s *responderStore) UpdateResponder(ctx context.Context, tenant auth.Tenant, id string, change func(*incident.Responder, bool) error) (*incident.Responder, error) {
	var out *incident.Responder
	pooled := false // the pool lock is taken first (see pool.go)
	err := s.db.inTx(ctx, func(tx *txn) error {
		if pooled {
			if err := lockPool(ctx, tx, tenant); err != nil {
				return err
			}
		}
		read, err := scanResponder(tx.QueryRow(ctx, selectResponder+` WHERE id = $1 AND org_id = $2 AND environment = $3`+forUpdate, id, tenant.OrgID, string(tenant.Env)))
		r, exists, err := sqlstore.ChangeResponder(tenant, id, read, err, errNoRows, change)
		if err != nil {
			return err
		}
		if !pooled && releasesPool(tenant, r) {
			// The pool lock comes before any responder's: run again,
			// taking it first. A change that leaves the responder busy or
			// offline (most location updates under load) takes none.
			pooled = true
			return &retry{errPoolFirst}
		}
		query, args := writeResponder(r, exists)
		if _, err := tx.Exec(ctx, query, args...); err != nil {
			if !exists && isUniqueViolation(err) {
				return &retry{err}
			}
			return err
		}
		out = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// finalistSlack is how much farther (in metres of chord) than the
// limit-th candidate the last one read must be before the search stops:
// every responder that could tie with or beat the limit-th once ranked by
// exact great-circle distance is then among the candidates.
const finalistSlack = 1.0

// NearestAvailable asks the GiST index for the tenant's available
// responders nearest to at by chord distance (a KNN scan: the index walks
// from the nearest outwards and stops after the rows asked for; no scan of
// the pool), then ranks them by great-circle distance, the longest idle
// and id. It reads a few more than limit, and more again in the rare case
// that the last of them is within finalistSlack of the limit-th. A bounded
// search (withinM > 0) also gives the index the cube around at that holds
// every point within reach, so it never looks farther; Go drops the
// corners.
func (s *responderStore) NearestAvailable(ctx context.Context, tenant auth.Tenant, at geo.Point, limit int, withinM float64) ([]*incident.Responder, error) {
	if limit <= 0 {
		return nil, nil
	}
	q := onSphere(at)
	query := `SELECT ` + sqlstore.ResponderColumns + `, pos <-> cube($3::float8[]) FROM responders
		WHERE org_id = $1 AND environment = $2 AND status = 'available'`
	args := []any{tenant.OrgID, string(tenant.Env), q, 0} // $4, the limit, is set below
	if withinM > 0 {
		lo, hi := reach(q, withinM)
		query += ` AND pos <@ cube($5::float8[], $6::float8[])`
		args = append(args, lo, hi)
	}
	query += ` ORDER BY pos <-> cube($3::float8[]) LIMIT $4`
	type ranked struct {
		sqlstore.Ranked
		chord float64
	}
	var found []ranked
	for n := limit + 4; ; n *= 4 {
		args[3] = n
		var err error
		found, err = queryAll(ctx, s.db.pool, func(row rowScanner) (ranked, error) {
			var c ranked
			var err error
			c.Responder, err = scanResponder(sqlstore.Then(func(dest []any) error { return row.Scan(append(dest, &c.chord)...) }))
			if err == nil {
				c.Metres = geo.Distance(at, c.Responder.Location)
			}
			return c, err
		}, query, args...)
		if err != nil {
			return nil, err
		}
		if len(found) < n || found[n-1].chord > found[limit-1].chord+finalistSlack {
			break
		}
	}
	near := make([]sqlstore.Ranked, 0, len(found))
	for _, c := range found {
		if withinM <= 0 || c.Metres <= withinM {
			near = append(near, c.Ranked)
		}
	}
	return sqlstore.Nearest(near, limit), nil
}

// applyShared is applyEffects as sqlstore.Incidents calls it.
func applyShared(ctx context.Context, tx sqlstore.Tx, tenant auth.Tenant, incidentID string, e incident.Effects) error {
	return applyEffects(ctx, tx.(sharedTx).t, tenant, incidentID, e)
}

// applyEffects claims and releases responders for an incident change, in
// the incident's transaction. It locks the rows it touches (both at once,
// in id order, so two such transactions never wait on each other in a
// cycle) and decides on what it locked: of concurrent claims of one
// responder, from any instance, the first takes it and the others, waiting
// for its commit, find it busy (ErrResponderUnavailable).
func applyEffects(ctx context.Context, tx *txn, tenant auth.Tenant, incidentID string, e incident.Effects) error {
	var ids []string
	for _, id := range []string{e.Release, e.Claim} {
		if id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if e.Release != "" {
		if err := lockPool(ctx, tx, tenant); err != nil {
			return err
		}
	}
	locked, err := queryAll(ctx, tx, scanResponder, selectResponder+` WHERE org_id = $1 AND environment = $2 AND id = ANY($3) ORDER BY id`+forUpdate,
		tenant.OrgID, string(tenant.Env), ids)
	if err != nil {
		return err
	}
	byID := map[string]*incident.Responder{}
	for _, r := range locked {
		byID[r.ID] = r
	}
	if r := byID[e.Release]; r != nil && r.IncidentID != nil && *r.IncidentID == incidentID {
		r.Status, r.IncidentID, r.IdleSince, r.UpdatedAt = incident.Available, nil, clock.At(e.At), clock.At(e.At)
		query, args := writeResponder(r, true)
		tx.later(query, args...)
	}
	if e.Claim != "" {
		r := byID[e.Claim]
		if r == nil || r.Status != incident.Available {
			return incident.ErrResponderUnavailable
		}
		r.Status, r.IncidentID, r.UpdatedAt = incident.Busy, &incidentID, clock.At(e.At)
		query, args := writeResponder(r, true)
		tx.later(query, args...)
	}
	return nil
}

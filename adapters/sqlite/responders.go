package sqlite

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
)

// responderStore is incident.ResponderStore: the update and the nearest
// search, which keep the R*Tree of available responders, here; the list
// written once (sqlstore.Responders).
type responderStore struct {
	sqlstore.Responders
	db *DB
}

// selectResponder reads a responder's row key (rid: the R*Tree's key)
// before its columns.
const selectResponder = `SELECT rid, ` + sqlstore.ResponderColumns + ` FROM responders`

func scanResponder(row rowScanner) (rid int64, r *incident.Responder, err error) {
	r, err = sqlstore.ScanResponder(sqlstore.Then(func(dest []any) error { return row.Scan(append([]any{&rid}, dest...)...) }))
	return rid, r, err
}

func getResponder(ctx context.Context, tx sqlstore.Tx, tenant auth.Tenant, id string) (int64, *incident.Responder, error) {
	return scanResponder(tx.QueryRow(ctx, selectResponder+` WHERE org_id = ? AND environment = ? AND id = ?`, tenant.OrgID, tenant.Env, id))
}

// putResponder writes r (rid 0: a new row) and keeps the R*Tree of
// available responders in step, inside tx; what the writer knew of the
// tenant's available responders is forgotten first.
func putResponder(ctx context.Context, tx *writeTx, rid int64, r *incident.Responder) error {
	tx.available.forget(r.Tenant())
	args := []any{r.Name, r.Phone, r.Location.Lng(), r.Location.Lat(), r.Status, r.IncidentID, millis(r.IdleSince.Time), r.UpdatedAt.UnixMilli()}
	if rid == 0 {
		if err := tx.QueryRow(ctx, `INSERT INTO responders (id, org_id, environment, name, phone, lng, lat, status, incident_id, idle_since, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING rid`, append([]any{r.ID, r.OrgID, r.Environment}, args...)...).Scan(&rid); err != nil {
			return err
		}
	} else if _, err := tx.Exec(ctx, `UPDATE responders SET name = ?, phone = ?, lng = ?, lat = ?, status = ?, incident_id = ?,
		idle_since = ?, updated_at = ? WHERE rid = ?`, append(args, rid)...); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM responders_available WHERE rid = ?`, rid); err != nil {
		return err
	}
	if r.Status != incident.Available {
		return nil
	}
	lat, lng := r.Location.Lat(), r.Location.Lng()
	_, err := tx.Exec(ctx, `INSERT INTO responders_available (rid, min_lat, max_lat, min_lng, max_lng, org_id, environment)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, rid, lat, lat, lng, lng, r.OrgID, r.Environment)
	return err
}

func (s *responderStore) UpdateResponder(ctx context.Context, tenant auth.Tenant, id string, change func(*incident.Responder, bool) error) (*incident.Responder, error) {
	var out *incident.Responder
	err := s.db.inTx(ctx, func(tx *writeTx) error {
		rid, read, err := getResponder(ctx, tx, tenant, id)
		r, _, err := sqlstore.ChangeResponder(tenant, id, read, err, errNoRows, change)
		if err != nil {
			return err
		}
		out = r
		return putResponder(ctx, tx, rid, r)
	})
	if err != nil {
		return nil, translate(err)
	}
	return out, nil
}

// searchRadii are the radii of the boxes NearestAvailable tries, in meters;
// a search that fills none ends with every available responder of the tenant.
var searchRadii = []float64{250, 1e3, 4e3, 16e3, 64e3, 256e3, 1024e3, 4096e3}

// point is an entry of the R*Tree: a responder's row key and position.
type point struct {
	rid int64
	at  geo.Point
	d   float64
}

// NearestAvailable reads candidates from the R*Tree alone (row key and
// position, no join) in a box around at, growing the box until it holds
// limit responders within the circle it encloses, so nothing outside can
// be nearer. Only the finalists' rows are then loaded and ranked exactly.
// A bounded search (withinM) stops at a box of that radius and never scans
// the pool, so "nobody in range" costs a few index probes.
func (s *responderStore) NearestAvailable(ctx context.Context, tenant auth.Tenant, at geo.Point, limit int, withinM float64) ([]*incident.Responder, error) {
	if limit <= 0 {
		return nil, nil
	}
	// Start from the box that answered this tenant's last search: a dense
	// pool answers in its first, small box; a sparse one skips empty boxes.
	first, _ := s.db.radiusHint.Load(tenant)
	start, _ := first.(int)
	for i := start; i < len(searchRadii); i++ {
		radius, last := searchRadii[i], false
		if withinM > 0 && radius >= withinM {
			radius, last = withinM, true
		}
		found, err := s.inBox(ctx, tenant, at, geo.BoxAround(at, radius))
		if err != nil {
			return nil, err
		}
		if len(found) >= limit && found[limit-1].d <= radius {
			// Far more than needed: the next search may start a box smaller.
			if i > 0 && found[min(len(found), 16*limit)-1].d <= radius {
				i--
			}
			s.db.radiusHint.Store(tenant, i)
			return s.finalists(ctx, at, found, limit)
		}
		if last {
			// Too few within range: the next search starts at this box,
			// so an empty or sparse pool costs one query, not one a box.
			s.db.radiusHint.Store(tenant, i)
			return s.finalists(ctx, at, within(found, radius), limit)
		}
	}
	found, err := s.points(ctx, at, `SELECT rid, min_lat, min_lng FROM responders_available WHERE org_id = ? AND environment = ?`,
		tenant.OrgID, tenant.Env)
	if err != nil {
		return nil, err
	}
	return s.finalists(ctx, at, found, limit)
}

// inBox reads the tenant's available responders in box from the R*Tree,
// nearest first (a box across the antimeridian is two queries).
func (s *responderStore) inBox(ctx context.Context, tenant auth.Tenant, at geo.Point, box geo.Box) ([]point, error) {
	const q = `SELECT rid, min_lat, min_lng FROM responders_available WHERE org_id = ? AND environment = ?
		AND min_lat >= ? AND max_lat <= ? AND min_lng >= ? AND max_lng <= ?`
	found, err := s.points(ctx, at, q, tenant.OrgID, tenant.Env, box.MinLat, box.MaxLat, box.MinLng, box.MaxLng)
	if err != nil || box.WrapMinLng > box.WrapMaxLng {
		return found, err
	}
	more, err := s.points(ctx, at, q, tenant.OrgID, tenant.Env, box.MinLat, box.MaxLat, box.WrapMinLng, box.WrapMaxLng)
	found = append(found, more...)
	slices.SortFunc(found, func(a, b point) int { return cmp.Compare(a.d, b.d) })
	return found, err
}

// within keeps the points no farther than radius (found is nearest first).
func within(found []point, radius float64) []point {
	n, _ := slices.BinarySearchFunc(found, radius, func(p point, r float64) int {
		if p.d <= r {
			return -1
		}
		return 1
	})
	return found[:n]
}

// points runs an R*Tree query and returns its entries nearest first.
func (s *responderStore) points(ctx context.Context, at geo.Point, query string, args ...any) ([]point, error) {
	out, err := queryAll(ctx, s.db.read, func(row rowScanner) (p point, err error) {
		var lat, lng float64
		err = row.Scan(&p.rid, &lat, &lng)
		p.at = geo.Point{lng, lat}
		p.d = geo.Distance(at, p.at)
		return p, err
	}, query, args...)
	slices.SortFunc(out, func(a, b point) int { return cmp.Compare(a.d, b.d) })
	return out, err
}

// availableWithin reports whether the tenant has an available responder
// within withinM metres of at, read in tx: the R*Tree's box around the
// circle, then each entry's exact position from its row until one is in
// the circle.
func availableWithin(ctx context.Context, tx *writeTx, tenant auth.Tenant, at geo.Point, withinM float64) (bool, error) {
	const q = `SELECT r.lng, r.lat FROM responders_available a JOIN responders r ON r.rid = a.rid
		WHERE a.org_id = ? AND a.environment = ? AND a.min_lat >= ? AND a.max_lat <= ? AND a.min_lng >= ? AND a.max_lng <= ?`
	box := geo.BoxAround(at, withinM)
	lngs := [][2]float64{{box.MinLng, box.MaxLng}}
	if box.WrapMinLng <= box.WrapMaxLng {
		lngs = append(lngs, [2]float64{box.WrapMinLng, box.WrapMaxLng})
	}
	for _, lng := range lngs {
		found, err := anyWithin(ctx, tx, at, withinM, q, tenant.OrgID, tenant.Env, box.MinLat, box.MaxLat, lng[0], lng[1])
		if found || err != nil {
			return found, err
		}
	}
	return false, nil
}

// anyWithin runs query, of positions (lng, lat), on tx's prepared
// statements and reports whether one is within withinM metres of at; it
// stops reading at the first.
func anyWithin(ctx context.Context, tx *writeTx, at geo.Point, withinM float64, query string, args ...any) (bool, error) {
	rows, err := tx.Hot().QueryContext(ctx, query, args...)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	for rows.Next() {
		var p geo.Point
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return false, err
		}
		if geo.Distance(at, p) <= withinM {
			return true, nil
		}
	}
	return false, rows.Err()
}

// finalistSlack covers the R*Tree's 32-bit rounding: every entry within
// this many meters of the limit-th is loaded and ranked exactly.
const finalistSlack = 5.0

// finalists loads the rows of the nearest entries and ranks them with exact
// positions: distance, then the longest idle, then id.
func (s *responderStore) finalists(ctx context.Context, at geo.Point, found []point, limit int) ([]*incident.Responder, error) {
	if len(found) == 0 {
		return nil, nil
	}
	n := min(limit, len(found))
	for n < len(found) && found[n].d <= found[min(limit, len(found))-1].d+finalistSlack {
		n++
	}
	args := make([]any, n)
	for i := range n {
		args[i] = found[i].rid
	}
	out, err := queryAll(ctx, s.db.read, func(row rowScanner) (sqlstore.Ranked, error) {
		r, err := sqlstore.ScanResponder(row)
		if err != nil {
			return sqlstore.Ranked{}, err
		}
		return sqlstore.Ranked{Responder: r, Metres: geo.Distance(at, r.Location)}, nil
	}, `SELECT `+sqlstore.ResponderColumns+` FROM responders WHERE rid IN (`+marks(n)+`)`, args...)
	if err != nil {
		return nil, err
	}
	return sqlstore.Nearest(out, limit), nil
}

// applyEffects claims and releases responders for an incident change, in
// the incident's transaction.
func applyEffects(ctx context.Context, stx sqlstore.Tx, tenant auth.Tenant, incidentID string, e incident.Effects) error {
	tx, ok := stx.(*writeTx)
	if !ok {
		return fmt.Errorf("sqlite: responders changed outside the writer (%T)", stx)
	}
	if e.Release != "" {
		rid, r, err := getResponder(ctx, tx, tenant, e.Release)
		if err != nil && !errors.Is(err, errNoRows) {
			return err
		}
		if err == nil && r.IncidentID != nil && *r.IncidentID == incidentID {
			r.Status, r.IncidentID, r.IdleSince, r.UpdatedAt = incident.Available, nil, clock.At(e.At), clock.At(e.At)
			if err := putResponder(ctx, tx, rid, r); err != nil {
				return err
			}
		}
	}
	if e.Claim != "" {
		rid, r, err := getResponder(ctx, tx, tenant, e.Claim)
		if errors.Is(err, errNoRows) || err == nil && r.Status != incident.Available {
			return incident.ErrResponderUnavailable
		}
		if err != nil {
			return err
		}
		r.Status, r.IncidentID, r.UpdatedAt = incident.Busy, &incidentID, clock.At(e.At)
		return putResponder(ctx, tx, rid, r)
	}
	return nil
}

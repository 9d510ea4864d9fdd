package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"slices"
	"strings"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
)

type responderStore DB

const selectResponder = `SELECT rid, id, org_id, environment, name, phone, lng, lat, status, incident_id, idle_since, updated_at FROM responders`

func scanResponder(row rowScanner) (int64, *incident.Responder, error) {
	var (
		r             incident.Responder
		rid           int64
		lng, lat      float64
		idle, updated sql.NullInt64
	)
	if err := row.Scan(&rid, &r.ID, &r.OrgID, &r.Environment, &r.Name, &r.Phone, &lng, &lat, &r.Status, &r.IncidentID, &idle, &updated); err != nil {
		return 0, nil, err
	}
	r.Location = geo.Point{lng, lat}
	r.IdleSince, r.UpdatedAt = clock.At(fromMillis(idle)), clock.At(fromMillis(updated))
	return rid, &r, nil
}

func getResponder(ctx context.Context, tx *sql.Tx, tenant auth.Tenant, id string) (int64, *incident.Responder, error) {
	return scanResponder(tx.QueryRowContext(ctx, selectResponder+` WHERE org_id = ? AND environment = ? AND id = ?`, tenant.OrgID, tenant.Env, id))
}

// putResponder writes r (rid 0: a new row) and keeps the R*Tree of
// available responders in step, inside tx.
func putResponder(ctx context.Context, tx *sql.Tx, rid int64, r *incident.Responder) error {
	args := []any{r.Name, r.Phone, r.Location.Lng(), r.Location.Lat(), r.Status, r.IncidentID, millis(r.IdleSince.Time), r.UpdatedAt.UnixMilli()}
	if rid == 0 {
		res, err := tx.ExecContext(ctx, `INSERT INTO responders (id, org_id, environment, name, phone, lng, lat, status, incident_id, idle_since, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, append([]any{r.ID, r.OrgID, r.Environment}, args...)...)
		if err != nil {
			return err
		}
		if rid, err = res.LastInsertId(); err != nil {
			return err
		}
	} else if _, err := tx.ExecContext(ctx, `UPDATE responders SET name = ?, phone = ?, lng = ?, lat = ?, status = ?, incident_id = ?,
		idle_since = ?, updated_at = ? WHERE rid = ?`, append(args, rid)...); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM responders_available WHERE rid = ?`, rid); err != nil {
		return err
	}
	if r.Status != incident.Available {
		return nil
	}
	lat, lng := r.Location.Lat(), r.Location.Lng()
	_, err := tx.ExecContext(ctx, `INSERT INTO responders_available (rid, min_lat, max_lat, min_lng, max_lng) VALUES (?, ?, ?, ?, ?)`, rid, lat, lat, lng, lng)
	return err
}

func (s *responderStore) UpdateResponder(ctx context.Context, tenant auth.Tenant, id string, change func(*incident.Responder, bool) error) (*incident.Responder, error) {
	var out *incident.Responder
	err := (*DB)(s).inTx(ctx, func(tx *sql.Tx) error {
		rid, r, err := getResponder(ctx, tx, tenant, id)
		exists := err == nil
		if errors.Is(err, errNoRows) {
			r = &incident.Responder{ID: id, OrgID: tenant.OrgID, Environment: tenant.Env}
		} else if err != nil {
			return err
		}
		if err := change(r, exists); err != nil {
			return err
		}
		r.ID, r.OrgID, r.Environment = id, tenant.OrgID, tenant.Env
		out = r
		return putResponder(ctx, tx, rid, r)
	})
	if err != nil {
		return nil, translate(err)
	}
	return out, nil
}

func (s *responderStore) ListResponders(ctx context.Context, tenant auth.Tenant, f incident.ResponderFilter) ([]*incident.Responder, int, error) {
	cond := ` WHERE org_id = ? AND environment = ?`
	args := []any{tenant.OrgID, tenant.Env}
	if f.Status != "" {
		cond, args = cond+` AND status = ?`, append(args, f.Status)
	}
	if f.ID != "" {
		cond, args = cond+` AND id = ?`, append(args, f.ID)
	}
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, translate(err)
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM responders`+cond, args...).Scan(&total); err != nil {
		return nil, 0, translate(err)
	}
	rows, err := tx.QueryContext(ctx, selectResponder+cond+` ORDER BY id LIMIT ? OFFSET ?`, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, translate(err)
	}
	defer rows.Close()
	var out []*incident.Responder
	for rows.Next() {
		_, r, err := scanResponder(rows)
		if err != nil {
			return nil, 0, translate(err)
		}
		out = append(out, r)
	}
	return out, total, translate(rows.Err())
}

// searchRadii are the radii of the boxes NearestAvailable tries, in meters;
// a search that fills none ends with every available responder of the tenant.
var searchRadii = []float64{2e3, 8e3, 32e3, 128e3, 512e3, 2048e3}

type nearCandidate struct {
	r *incident.Responder
	d float64
}

// NearestAvailable asks the R*Tree for available responders in a box
// around at, growing the box until it holds limit responders within the
// circle the box encloses, so nothing outside the box can be nearer.
func (s *responderStore) NearestAvailable(ctx context.Context, tenant auth.Tenant, at geo.Point, limit int) ([]*incident.Responder, error) {
	if limit <= 0 {
		return nil, nil
	}
	const inBox = selectResponderJoined + ` JOIN responders_available a ON a.rid = r.rid
		WHERE a.min_lat >= ? AND a.max_lat <= ? AND a.min_lng >= ? AND a.max_lng <= ? AND r.org_id = ? AND r.environment = ?`
	for _, radius := range searchRadii {
		dLat := radius / 111195
		cos := math.Cos(at.Lat() * math.Pi / 180)
		if at.Lat()+dLat > 90 || at.Lat()-dLat < -90 || cos < 0.01 {
			break // near a pole: the box is not a box any more
		}
		dLng := dLat / cos
		if at.Lng()-dLng < -180 || at.Lng()+dLng > 180 {
			break // across the antimeridian: fall back to the full search
		}
		found, err := s.nearQuery(ctx, at, inBox, at.Lat()-dLat, at.Lat()+dLat, at.Lng()-dLng, at.Lng()+dLng, tenant.OrgID, tenant.Env)
		if err != nil {
			return nil, err
		}
		within := 0
		for _, c := range found {
			if c.d <= radius {
				within++
			}
		}
		if within >= limit {
			return firstResponders(found, limit), nil
		}
	}
	found, err := s.nearQuery(ctx, at, selectResponderJoined+` JOIN responders_available a ON a.rid = r.rid
		WHERE r.org_id = ? AND r.environment = ?`, tenant.OrgID, tenant.Env)
	if err != nil {
		return nil, err
	}
	return firstResponders(found, limit), nil
}

const selectResponderJoined = `SELECT r.rid, r.id, r.org_id, r.environment, r.name, r.phone, r.lng, r.lat, r.status, r.incident_id, r.idle_since, r.updated_at FROM responders r`

// nearQuery runs query and returns its responders nearest first, the one
// idle longest first at equal distance.
func (s *responderStore) nearQuery(ctx context.Context, at geo.Point, query string, args ...any) ([]nearCandidate, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []nearCandidate
	for rows.Next() {
		_, r, err := scanResponder(rows)
		if err != nil {
			return nil, translate(err)
		}
		out = append(out, nearCandidate{r, geo.Distance(at, r.Location)})
	}
	slices.SortFunc(out, func(a, b nearCandidate) int {
		switch {
		case a.d < b.d:
			return -1
		case a.d > b.d:
			return 1
		}
		if c := a.r.IdleSince.Compare(b.r.IdleSince.Time); c != 0 {
			return c
		}
		return strings.Compare(a.r.ID, b.r.ID)
	})
	return out, translate(rows.Err())
}

func firstResponders(c []nearCandidate, limit int) []*incident.Responder {
	out := make([]*incident.Responder, 0, min(limit, len(c)))
	for _, cand := range c[:min(limit, len(c))] {
		out = append(out, cand.r)
	}
	return out
}

// applyEffects claims and releases responders for an incident change, in
// the incident's transaction.
func applyEffects(ctx context.Context, tx *sql.Tx, tenant auth.Tenant, incidentID string, e incident.Effects) error {
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

package sqlstore

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
)

// ResponderColumns are the columns of responders ScanResponder reads, in
// its order.
const ResponderColumns = `id, org_id, environment, name, phone, lng, lat, status, incident_id, idle_since, updated_at`

// ScanResponder reads a responder (ResponderColumns).
func ScanResponder(row RowScanner) (*incident.Responder, error) {
	var (
		r             incident.Responder
		env, status   string
		lng, lat      float64
		idle, updated Time
	)
	if err := row.Scan(&r.ID, &r.OrgID, &env, &r.Name, &r.Phone, &lng, &lat, &status, &r.IncidentID, &idle, &updated); err != nil {
		return nil, err
	}
	r.Environment, r.Status, r.Location = auth.Environment(env), incident.ResponderStatus(status), geo.Point{lng, lat}
	r.IdleSince, r.UpdatedAt = idle.Clock(), updated.Clock()
	return &r, nil
}

// Responders is the part of incident.ResponderStore that is the same SQL
// on both engines; each adapter adds the update and the nearest search,
// which keep its own spatial index.
type Responders struct{ d Driver }

// NewResponders returns the shared part of the responder store on d.
func NewResponders(d Driver) Responders { return Responders{d} }

func (s Responders) ListResponders(ctx context.Context, tenant auth.Tenant, f incident.ResponderFilter) ([]*incident.Responder, int, error) {
	l := List{Sel: `SELECT ` + ResponderColumns + ` FROM responders`, Order: `id`}
	l.Tenant(tenant)
	if f.Status != "" {
		l.And(`status = ?`, f.Status)
	}
	if f.ID != "" {
		l.And(`id = ?`, f.ID)
	}
	return Page(ctx, s.d, ScanResponder, l, f.Offset, f.Limit)
}

// Ranked is a responder a nearest search found, with its great-circle
// distance from the point searched, in metres.
type Ranked struct {
	Responder *incident.Responder
	Metres    float64
}

// Nearest sorts found in the order NearestAvailable answers in (nearest
// first, then the longest idle, then by id) and returns the first limit
// responders.
func Nearest(found []Ranked, limit int) []*incident.Responder {
	slices.SortFunc(found, func(a, b Ranked) int {
		if c := cmp.Compare(a.Metres, b.Metres); c != 0 {
			return c
		}
		if c := a.Responder.IdleSince.Compare(b.Responder.IdleSince.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Responder.ID, b.Responder.ID)
	})
	out := make([]*incident.Responder, 0, min(limit, len(found)))
	for _, c := range found[:min(limit, len(found))] {
		out = append(out, c.Responder)
	}
	return out
}

// ChangeResponder applies UpdateResponder's change to the responder id of
// tenant, read in the update's transaction as r with error err. A read
// that found no row (err is noRows, the driver's) gives change a new
// responder of tenant and exists false; another error is returned as it
// is. Change cannot move the responder: its id and tenant are set again
// after it.
func ChangeResponder(tenant auth.Tenant, id string, r *incident.Responder, err, noRows error, change func(*incident.Responder, bool) error) (_ *incident.Responder, exists bool, _ error) {
	exists = err == nil
	if errors.Is(err, noRows) {
		r = &incident.Responder{ID: id, OrgID: tenant.OrgID, Environment: tenant.Env}
	} else if err != nil {
		return nil, false, err
	}
	if err := change(r, exists); err != nil {
		return nil, false, err
	}
	r.ID, r.OrgID, r.Environment = id, tenant.OrgID, tenant.Env
	return r, exists, nil
}

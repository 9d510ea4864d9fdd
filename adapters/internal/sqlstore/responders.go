package sqlstore

import (
	"cmp"
	"errors"
	"slices"
	"strings"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/incident"
)

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

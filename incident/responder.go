package incident

import (
	"slices"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/internal/clone"
	"github.com/sety-io/sety/setyerr"
)

// ResponderStatus is whether a responder can take an incident.
type ResponderStatus string

// Responder statuses; only available responders are dispatched.
const (
	Available ResponderStatus = "available"
	Busy      ResponderStatus = "busy"
	Offline   ResponderStatus = "offline"
)

// ResponderStatuses lists every responder status.
var ResponderStatuses = []ResponderStatus{Available, Busy, Offline}

// Valid reports whether s is a known responder status.
func (s ResponderStatus) Valid() bool { return slices.Contains(ResponderStatuses, s) }

// Responder is a member of a tenant's response pool.
type Responder struct {
	ID         string          `json:"responder_id" example:"rsp_a1b2c3d4e5f6g7h8" doc:"Your id for the responder, an rsp_ id or your own driver or unit id: 1 to 64 ASCII letters, digits, '.', '_', ':' or '-', starting with a letter or digit."`
	Name       string          `json:"name" example:"Unit 7 — Emeka Obi" doc:"The responder's name, shown on assignments."`
	Phone      *string         `json:"phone" example:"+2348031112222" doc:"Phone number (E.164); null when unknown."`
	Location   geo.Point       `json:"location" nullable:"false" example:"[3.4102,6.4311]" doc:"[longitude, latitude]."`
	Status     ResponderStatus `json:"status" doc:"available (can be dispatched), busy (on an incident) or offline."`
	IncidentID *string         `json:"incident_id" example:"inc_k7m2p9x4q1w8z3r5" doc:"The incident the responder is assigned to, if any."`
	IdleSince  clock.Time      `json:"idle_since" nullable:"true" doc:"When the responder last became available; the longest idle wins ties."`
	UpdatedAt  clock.Time      `json:"updated_at" doc:"When the responder last changed."`

	OrgID       string           `json:"-"`
	Environment auth.Environment `json:"-"`
}

// Tenant returns the tenant whose pool the responder is in.
func (r *Responder) Tenant() auth.Tenant { return auth.Tenant{OrgID: r.OrgID, Env: r.Environment} }

// Clone returns a deep copy.
func (r *Responder) Clone() *Responder {
	c := *r
	c.Phone = clone.Ptr(r.Phone)
	c.IncidentID = clone.Ptr(r.IncidentID)
	return &c
}

// MaxResponderIDLength is the longest responder id: a responder's id is
// the caller's (an rsp_ id, or a host's own driver or unit id), so a host
// needs no table mapping its ids to Sety's.
const MaxResponderIDLength = 64

// CheckResponderID reports whether id may name a responder: 1 to
// MaxResponderIDLength ASCII letters, digits, '.', '_', ':' or '-',
// starting with a letter or digit (so it is safe in a URL path segment and
// in logs). field names the input in the error.
func CheckResponderID(field, id string) error {
	ok := id != "" && len(id) <= MaxResponderIDLength
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		ok = alnum || i > 0 && (c == '.' || c == '_' || c == ':' || c == '-')
	}
	if !ok {
		return setyerr.Invalidf(field, "must be 1 to %d letters, digits, '.', '_', ':' or '-', starting with a letter or digit "+
			"(an rsp_ id, or your own system's id for the responder)", MaxResponderIDLength)
	}
	return nil
}

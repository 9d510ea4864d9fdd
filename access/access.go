package access

import (
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
)

// Code statuses, derived from stored facts and the time of reading.
const (
	Active  = "active"
	Used    = "used"
	Expired = "expired"
	Revoked = "revoked"
)

// Validation reasons.
const (
	ReasonOK          = "ok"
	ReasonNotFound    = "not_found"
	ReasonExpired     = "expired"
	ReasonNotYetValid = "not_yet_valid"
	ReasonUsedUp      = "used_up"
	ReasonRevoked     = "revoked"
	ReasonLocked      = "locked"
)

// Log statuses and methods.
const (
	CheckedIn    = "checked_in"
	CheckedOut   = "checked_out"
	MethodCode   = "code"
	MethodManual = "manual"
)

// Event types this package writes to the outbox.
const (
	TypeCheckedIn   = "access.checked_in"
	TypeCheckedOut  = "access.checked_out"
	TypeCodeRevoked = "access.code_revoked"
)

// Visitor is who comes in.
type Visitor struct {
	Name         string  `json:"name" minLength:"1" maxLength:"200" example:"Tolu Bakare" doc:"The visitor's name."`
	Phone        *string `json:"phone" required:"false" maxLength:"16" example:"+2348029876543" doc:"Phone number in E.164 form; null when unknown."`
	Email        *string `json:"email" required:"false" maxLength:"254" example:"tolu.bakare@example.com" doc:"Email address; null when unknown."`
	VehiclePlate *string `json:"vehicle_plate" required:"false" maxLength:"20" example:"LND-442-KJ" doc:"Plate of the vehicle they arrive in; null when unknown."`
}

// Host is who they visit.
type Host struct {
	Name  *string `json:"name" required:"false" maxLength:"200" example:"Ada Obi" doc:"Who the visitor comes to see; null when unknown."`
	Unit  *string `json:"unit" required:"false" maxLength:"50" example:"Block C, Flat 4" doc:"The host's flat, office or unit; null when unknown."`
	Phone *string `json:"phone" required:"false" maxLength:"16" example:"+2348025550101" doc:"The host's phone number (E.164); null when unknown."`
}

// AccessCode is a visitor pass. The code itself is shown once, at creation;
// only a keyed hash of it is stored.
type AccessCode struct {
	ID         string     `json:"code_id" example:"acc_a1b2c3d4e5f6g7h8" doc:"The code's id: acc_ and 16 lowercase letters or digits (not the digits a visitor types)."`
	CodeHint   string     `json:"code_hint" example:"••••21" doc:"The last two digits, to tell codes apart."`
	Site       string     `json:"site" example:"lekki-gardens" doc:"The site the code opens."`
	Visitor    Visitor    `json:"visitor" doc:"Who the code is for."`
	Host       Host       `json:"host" doc:"Who the visitor comes to see."`
	Purpose    *string    `json:"purpose" example:"Parcel delivery" doc:"Why the visitor comes; null when not given."`
	ValidFrom  clock.Time `json:"valid_from" doc:"The code works from this time."`
	ValidUntil clock.Time `json:"valid_until" doc:"The code stops working at this time."`
	MaxUses    *int       `json:"max_uses" example:"1" doc:"How many times the code may be used; null: any number within its window."`
	Uses       int        `json:"uses" example:"0" doc:"How many times it has been used."`
	Status     string     `json:"status" enum:"active,used,expired,revoked" doc:"As of now: active (works, or will once valid_from comes), used (max_uses reached), expired (past valid_until) or revoked."`
	CreatedAt  clock.Time `json:"created_at" doc:"When the code was issued."`
	RevokedAt  clock.Time `json:"revoked_at" nullable:"true" doc:"When it was revoked; null otherwise."`

	OrgID       string           `json:"-"`
	Environment auth.Environment `json:"-"`
	Hash        []byte           `json:"-"`
	Sequence    int64            `json:"-"`
}

// Tenant returns the code's tenant.
func (c *AccessCode) Tenant() auth.Tenant { return auth.Tenant{OrgID: c.OrgID, Env: c.Environment} }

// StatusAt derives the status at now: revoked, then used up, then expired.
// A code not yet valid is active: it exists and will work. Adapters that
// filter by status follow it.
func (c *AccessCode) StatusAt(now time.Time) string {
	switch {
	case !c.RevokedAt.IsZero():
		return Revoked
	case c.MaxUses != nil && c.Uses >= *c.MaxUses:
		return Used
	case !now.Before(c.ValidUntil.Time):
		return Expired
	}
	return Active
}

// AccessLog is one visit, from check-in to checkout.
type AccessLog struct {
	ID              string     `json:"log_id" example:"log_a1b2c3d4e5f6g7h8" doc:"The visit's id: log_ and 16 lowercase letters or digits."`
	Site            string     `json:"site" example:"lekki-gardens" doc:"Where the visit is."`
	Gate            *string    `json:"gate" example:"North gate" doc:"The gate of the check-in; null when not given."`
	Visitor         Visitor    `json:"visitor" doc:"Who visits."`
	Host            Host       `json:"host" doc:"Who they visit."`
	Purpose         *string    `json:"purpose" example:"Parcel delivery" doc:"Why; null when not given."`
	Method          string     `json:"method" enum:"code,manual" doc:"How they checked in: code (a validated access code) or manual."`
	AccessCodeID    *string    `json:"access_code_id" example:"acc_a1b2c3d4e5f6g7h8" doc:"The access code used to check in; null for a manual check-in."`
	Status          string     `json:"status" enum:"checked_in,checked_out" doc:"checked_in while on site, then checked_out."`
	CheckedInAt     clock.Time `json:"checked_in_at" doc:"When the visitor checked in."`
	CheckedOutAt    clock.Time `json:"checked_out_at" nullable:"true" doc:"When they checked out; null while on site."`
	DurationSeconds *int64     `json:"duration_seconds" example:"2700" doc:"Length of the visit in seconds; null until checkout."`
	ExpectedUntil   clock.Time `json:"expected_until" nullable:"true" doc:"When the visitor should leave; null when not given. Later than that is an overstay."`
	Notes           *string    `json:"notes" example:"Left a parcel at reception" doc:"Notes from the check-in and the checkout; null when there are none."`
	CreatedAt       clock.Time `json:"created_at" doc:"When the log was created."`
	UpdatedAt       clock.Time `json:"updated_at" doc:"When the log last changed."`

	OrgID       string           `json:"-"`
	Environment auth.Environment `json:"-"`
	Sequence    int64            `json:"-"`
}

// Tenant returns the log's tenant.
func (l *AccessLog) Tenant() auth.Tenant { return auth.Tenant{OrgID: l.OrgID, Env: l.Environment} }

// ValidationResult answers a validation.
type ValidationResult struct {
	Valid      bool        `json:"valid" doc:"Whether the code opens the gate now."`
	Reason     string      `json:"reason" enum:"ok,not_found,expired,not_yet_valid,used_up,revoked,locked" doc:"ok, or why not: not_found (no such code), expired, not_yet_valid, used_up, revoked, or locked (too many wrong guesses at this site; try again later)."`
	AccessCode *AccessCode `json:"access_code" doc:"The code presented, when it exists; null for not_found and locked."`
	AccessLog  *AccessLog  `json:"access_log" doc:"The visit opened, when the code was valid and check_in was asked; null otherwise."`
}

// CurrentVisitor is someone on site now.
type CurrentVisitor struct {
	LogID         string     `json:"log_id" example:"log_a1b2c3d4e5f6g7h8" doc:"The visit's access log id."`
	Visitor       Visitor    `json:"visitor" doc:"Who is on site."`
	Host          Host       `json:"host" doc:"Who they visit."`
	Site          string     `json:"site" example:"lekki-gardens" doc:"Where they are."`
	Gate          *string    `json:"gate" example:"North gate" doc:"The gate of the check-in; null when not given."`
	CheckedInAt   clock.Time `json:"checked_in_at" doc:"When they checked in."`
	OnSiteSeconds int64      `json:"on_site_seconds" example:"1260" doc:"Seconds on site so far."`
	ExpectedUntil clock.Time `json:"expected_until" nullable:"true" doc:"When they should leave; null when not given."`
	Overstayed    bool       `json:"overstayed" doc:"Still here after expected_until."`
}

// Stats summarizes a site's visits (schema of the stats operation).
type Stats struct {
	From                clock.Time     `json:"from" doc:"Start of the window."`
	To                  clock.Time     `json:"to" doc:"End of the window."`
	TotalEntries        int            `json:"total_entries" example:"184" doc:"Visits checked in within the window."`
	CurrentlyOnSite     int            `json:"currently_on_site" example:"6" doc:"Of those, visitors on site now."`
	CheckedOut          int            `json:"checked_out" example:"178" doc:"Of those, visits already closed."`
	AverageVisitSeconds *float64       `json:"average_visit_seconds" example:"2310.5" doc:"Over checked-out visits; null without any."`
	MedianVisitSeconds  *float64       `json:"median_visit_seconds" example:"1800" doc:"Median visit length over checked-out visits, in seconds; null without any."`
	ByMethod            map[string]int `json:"by_method" nullable:"false" example:"{\"code\":150,\"manual\":34}" doc:"Check-ins by method."`
	ByHour              []int          `json:"by_hour" nullable:"false" doc:"Check-ins per UTC hour of day, 0–23."`
	ByWeekday           []int          `json:"by_weekday" nullable:"false" doc:"Check-ins per UTC weekday, Sunday first."`
	PeakHour            *int           `json:"peak_hour" example:"9" doc:"The busiest hour (earliest on ties); null without entries."`
	Overstays           int            `json:"overstays" example:"3" doc:"Visits that outlasted expected_until (or still do)."`
}

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
	Name         string  `json:"name" minLength:"1" maxLength:"200" example:"Tolu Bakare"`
	Phone        *string `json:"phone" required:"false" maxLength:"16" doc:"E.164."`
	Email        *string `json:"email" required:"false" maxLength:"254"`
	VehiclePlate *string `json:"vehicle_plate" required:"false" maxLength:"20" example:"LND-442-KJ"`
}

// Host is who they visit.
type Host struct {
	Name  *string `json:"name" required:"false" maxLength:"200" example:"Ada Obi"`
	Unit  *string `json:"unit" required:"false" maxLength:"50" example:"Block C, Flat 4"`
	Phone *string `json:"phone" required:"false" maxLength:"16"`
}

// AccessCode is a visitor pass. The code itself is shown once, at creation;
// only a keyed hash of it is stored.
type AccessCode struct {
	ID         string     `json:"code_id" example:"acc_a1b2c3d4e5f6g7h8"`
	CodeHint   string     `json:"code_hint" example:"••••21" doc:"The last two digits, to tell codes apart."`
	Site       string     `json:"site" example:"lekki-gardens"`
	Visitor    Visitor    `json:"visitor"`
	Host       Host       `json:"host"`
	Purpose    *string    `json:"purpose"`
	ValidFrom  clock.Time `json:"valid_from"`
	ValidUntil clock.Time `json:"valid_until"`
	MaxUses    *int       `json:"max_uses" doc:"null: unlimited within the window."`
	Uses       int        `json:"uses"`
	Status     string     `json:"status" enum:"active,used,expired,revoked"`
	CreatedAt  clock.Time `json:"created_at"`
	RevokedAt  clock.Time `json:"revoked_at" nullable:"true"`

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
	ID              string     `json:"log_id" example:"log_a1b2c3d4e5f6g7h8"`
	Site            string     `json:"site"`
	Gate            *string    `json:"gate" example:"North gate"`
	Visitor         Visitor    `json:"visitor"`
	Host            Host       `json:"host"`
	Purpose         *string    `json:"purpose"`
	Method          string     `json:"method" enum:"code,manual"`
	AccessCodeID    *string    `json:"access_code_id"`
	Status          string     `json:"status" enum:"checked_in,checked_out"`
	CheckedInAt     clock.Time `json:"checked_in_at"`
	CheckedOutAt    clock.Time `json:"checked_out_at" nullable:"true"`
	DurationSeconds *int64     `json:"duration_seconds" doc:"Set at checkout."`
	ExpectedUntil   clock.Time `json:"expected_until" nullable:"true"`
	Notes           *string    `json:"notes"`
	CreatedAt       clock.Time `json:"created_at"`
	UpdatedAt       clock.Time `json:"updated_at"`

	OrgID       string           `json:"-"`
	Environment auth.Environment `json:"-"`
	Sequence    int64            `json:"-"`
}

// Tenant returns the log's tenant.
func (l *AccessLog) Tenant() auth.Tenant { return auth.Tenant{OrgID: l.OrgID, Env: l.Environment} }

// ValidationResult answers a validation.
type ValidationResult struct {
	Valid      bool        `json:"valid"`
	Reason     string      `json:"reason" enum:"ok,not_found,expired,not_yet_valid,used_up,revoked,locked"`
	AccessCode *AccessCode `json:"access_code" doc:"The code, when it exists."`
	AccessLog  *AccessLog  `json:"access_log" doc:"The visit, when the code was valid and check_in was asked."`
}

// CurrentVisitor is someone on site now.
type CurrentVisitor struct {
	LogID         string     `json:"log_id"`
	Visitor       Visitor    `json:"visitor"`
	Host          Host       `json:"host"`
	Site          string     `json:"site"`
	Gate          *string    `json:"gate"`
	CheckedInAt   clock.Time `json:"checked_in_at"`
	OnSiteSeconds int64      `json:"on_site_seconds"`
	ExpectedUntil clock.Time `json:"expected_until" nullable:"true"`
	Overstayed    bool       `json:"overstayed" doc:"Still here after expected_until."`
}

// Stats summarizes a site's visits (schema of the stats operation).
type Stats struct {
	From                clock.Time     `json:"from"`
	To                  clock.Time     `json:"to"`
	TotalEntries        int            `json:"total_entries"`
	CurrentlyOnSite     int            `json:"currently_on_site"`
	CheckedOut          int            `json:"checked_out"`
	AverageVisitSeconds *float64       `json:"average_visit_seconds" doc:"Over checked-out visits; null without any."`
	MedianVisitSeconds  *float64       `json:"median_visit_seconds"`
	ByMethod            map[string]int `json:"by_method"`
	ByHour              []int          `json:"by_hour" doc:"Check-ins per UTC hour of day, 0–23."`
	ByWeekday           []int          `json:"by_weekday" doc:"Check-ins per UTC weekday, Sunday first."`
	PeakHour            *int           `json:"peak_hour" doc:"The busiest hour (earliest on ties); null without entries."`
	Overstays           int            `json:"overstays" doc:"Visits that outlasted expected_until (or still do)."`
}

package auth

import (
	"crypto/sha256"
	"slices"
	"time"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/internal/clone"
	"github.com/sety-io/sety/setyerr"
)

// Environment separates production data from sandbox data.
type Environment string

// The two environments; a key belongs to exactly one.
const (
	Live Environment = "live"
	Test Environment = "test"
)

// Valid reports whether e is live or test.
func (e Environment) Valid() bool { return e == Live || e == Test }

// Plan is an organization's subscription plan.
type Plan string

// The plans; their rate limits are in the contract.
const (
	Starter    Plan = "starter"
	Growth     Plan = "growth"
	Enterprise Plan = "enterprise"
)

// Valid reports whether p is a known plan.
func (p Plan) Valid() bool { return p == Starter || p == Growth || p == Enterprise }

// HasAPIAccess reports whether the plan includes the external API. Every plan
// sold today does; the check exists so a plan without it answers 402.
func (p Plan) HasAPIAccess() bool { return p.Valid() }

// OrgStatus is whether an organization may use the API.
type OrgStatus string

// Organization statuses; a suspended organization gets 402 everywhere.
const (
	Active    OrgStatus = "active"
	Suspended OrgStatus = "suspended"
)

// Organization is a customer of Sety.
type Organization struct {
	ID        string     `json:"org_id"`
	Name      string     `json:"name"`
	Plan      Plan       `json:"plan"`
	Status    OrgStatus  `json:"status"`
	CreatedAt clock.Time `json:"created_at"`
}

// Tenant is whose data a request may see: one organization, one environment.
type Tenant struct {
	OrgID string
	Env   Environment
}

// Validate reports a tenant a Go caller left incomplete, naming the Go
// field: every service entry point that takes a tenant checks it first.
func (t Tenant) Validate() error {
	if t.OrgID == "" {
		return setyerr.Invalidf("tenant.OrgID", "is required: the id of the organization the call acts for")
	}
	if !t.Env.Valid() {
		return setyerr.Invalidf("tenant.Env", "must be auth.Live or auth.Test, not %q", t.Env)
	}
	return nil
}

// Scope is a permission a key holds.
type Scope string

// The scopes of the contract; All grants every one.
const (
	All             Scope = "*"
	IncidentsRead   Scope = "incidents:read"
	IncidentsWrite  Scope = "incidents:write"
	AccessRead      Scope = "access:read"
	AccessWrite     Scope = "access:write"
	ThreatRead      Scope = "threat:read"
	WebhooksRead    Scope = "webhooks:read"
	WebhooksWrite   Scope = "webhooks:write"
	KeysWrite       Scope = "keys:write"
	RespondersWrite Scope = "responders:write"
	// Console is what a dispatcher needs: it grants incidents:read,
	// incidents:write, responders:write (the pool, progress reports,
	// assignment) and threat:read, and no key or webhook management.
	Console Scope = "console"
)

// Scopes lists every known scope, All first.
var Scopes = []Scope{All, IncidentsRead, IncidentsWrite, AccessRead, AccessWrite, ThreatRead,
	WebhooksRead, WebhooksWrite, KeysWrite, RespondersWrite, Console}

// bundles are the scopes that grant others besides themselves.
var bundles = map[Scope][]Scope{Console: {IncidentsRead, IncidentsWrite, RespondersWrite, ThreatRead}}

// Grants returns the scopes s grants besides itself: a bundle's members
// (console), nothing for a plain scope. All grants everything and is not
// listed here.
func (s Scope) Grants() []Scope { return slices.Clone(bundles[s]) }

// Valid reports whether s is a known scope.
func (s Scope) Valid() bool { return slices.Contains(Scopes, s) }

// APIKey is a stored key. Its secret is never stored, only Hash.
type APIKey struct {
	ID          string      `json:"key_id" example:"key_a1b2c3d4e5f6g7h8" doc:"The key's id: key_ and 16 lowercase letters or digits (not the key itself)."`
	OrgID       string      `json:"-"`
	Name        string      `json:"name" example:"checkout service" doc:"Your name for the key."`
	Environment Environment `json:"environment" doc:"live (production data) or test (sandbox data); a key sees only its own environment."`
	Prefix      string      `json:"prefix" example:"sety_test_3fa9" doc:"The first 14 characters of the key, to recognise it."`
	Scopes      []Scope     `json:"scopes" nullable:"false" example:"[\"incidents:read\",\"incidents:write\"]" doc:"What the key may do; * is everything."`
	ParentKeyID *string     `json:"parent_key_id" example:"key_q7w8e9r0t1y2u3i4" doc:"Set on the record of a console session (POST /sessions): the API key it was started with. The session holds that key's scopes and ends with it: when that key is revoked or expires, or no longer holds the session's scopes. Null for an API key."`
	Hash        []byte      `json:"-"`
	CreatedAt   clock.Time  `json:"created_at" doc:"When the key was issued."`
	LastUsedAt  clock.Time  `json:"last_used_at" nullable:"true" doc:"When the key was last used (recorded within seconds); null if never."`
	ExpiresAt   clock.Time  `json:"expires_at" nullable:"true" doc:"When the key stops working; null: never."`
	RevokedAt   clock.Time  `json:"revoked_at" nullable:"true" doc:"When the key was revoked; null otherwise."`
}

// Tenant returns the tenant the key acts for.
func (k *APIKey) Tenant() Tenant { return Tenant{OrgID: k.OrgID, Env: k.Environment} }

// Clone returns a deep copy, for adapters that must not share memory with callers.
func (k *APIKey) Clone() *APIKey {
	c := *k
	c.Scopes = slices.Clone(k.Scopes)
	c.ParentKeyID = clone.Ptr(k.ParentKeyID)
	c.Hash = slices.Clone(k.Hash)
	return &c
}

// Parent returns the id of the key that started the session this key is
// the credential of, or "" for an API key.
func (k *APIKey) Parent() string {
	if k.ParentKeyID == nil {
		return ""
	}
	return *k.ParentKeyID
}

// Principal is the authenticated caller of one request.
type Principal struct {
	Tenant
	KeyID  string
	Scopes []Scope
	Plan   Plan
	// ExpiresAt is when the credential stops working; zero: never.
	ExpiresAt time.Time
	// Session is true when the request was authenticated by the console's
	// session cookie rather than an Authorization header.
	Session bool

	keyHash [sha256.Size]byte // what Service.Verify reads the key by; zero unless Authenticate made it
	// ParentKeyID is, for a session's credential (however it was sent),
	// the API key that started the session; "" for an API key.
	ParentKeyID string
}

// Can reports whether the principal holds scope s, All, or a bundle that
// grants s (console grants incidents:read, for one).
func (p *Principal) Can(s Scope) bool {
	if slices.Contains(p.Scopes, All) || slices.Contains(p.Scopes, s) {
		return true
	}
	return slices.ContainsFunc(p.Scopes, func(held Scope) bool { return slices.Contains(bundles[held], s) })
}

// lacks returns the first of scopes the principal does not hold, or "".
// All is held only by a key holding All: a key of every named scope still
// cannot grant or revoke "*", which also covers scopes added later.
func (p *Principal) lacks(scopes []Scope) Scope {
	for _, s := range scopes {
		if s == All && !slices.Contains(p.Scopes, All) || !p.Can(s) {
			return s
		}
	}
	return ""
}

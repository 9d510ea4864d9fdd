package access

//go:generate go tool mockgen -source=store.go -destination=../adapters/mock/access_store.go -package=mock -mock_names=Store=AccessStore

import (
	"context"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
)

// Store persists access codes and logs. Implementations return
// setyerr.NotFound for anything of another tenant and hand out copies.
type Store interface {
	// CodeKey returns the key codes are hashed with when the service has
	// none configured, creating a random one the first time.
	CodeKey(ctx context.Context) ([]byte, error)

	// CreateCode inserts c unless the tenant has another active code (not
	// revoked, not used up, valid_until after now) with the same hash:
	// then ErrCodeTaken.
	CreateCode(ctx context.Context, c *AccessCode, now time.Time) error
	// GetCode returns the tenant's code id.
	GetCode(ctx context.Context, tenant auth.Tenant, id string) (*AccessCode, error)
	// ListCodes returns a page of the tenant's codes, newest first.
	ListCodes(ctx context.Context, tenant auth.Tenant, f CodeFilter) ([]*AccessCode, int, error)
	// UpdateCode loads the tenant's code id, calls change, and stores the
	// code and the events change returns in one transaction.
	UpdateCode(ctx context.Context, tenant auth.Tenant, id string, change func(*AccessCode) ([]outbox.Event, error)) (*AccessCode, error)

	// Validate runs one validation atomically. If the site is locked it
	// answers ReasonLocked without looking further. Otherwise it finds the
	// tenant's code with v.Hash at v.Site (the one active at v.Now if there
	// are several; nil if none) and asks decide. An accepted decision with
	// a Log (a check-in) counts one use — refused as ReasonUsedUp if that
	// would exceed max_uses, whatever the concurrency — and stores the log
	// and events in the same transaction; one without a Log only answers.
	// A guess — no code matched, so decide was given nil — is recorded,
	// and the guess that makes v.Lockout.Failures within v.Lockout.Window
	// locks the site for v.Lockout.Lock. A refusal of a code that exists
	// (used up, expired, revoked...) is not a guess: it is never recorded
	// and never locks.
	Validate(ctx context.Context, tenant auth.Tenant, v Validation, decide func(*AccessCode) (Decision, error)) (*ValidationResult, error)

	// CreateLog inserts a log and its event.
	CreateLog(ctx context.Context, l *AccessLog, ev outbox.Event) error
	// GetLog returns the tenant's log id.
	GetLog(ctx context.Context, tenant auth.Tenant, id string) (*AccessLog, error)
	// UpdateLog loads the tenant's log id, calls change, and stores the log
	// and the events change returns in one transaction.
	UpdateLog(ctx context.Context, tenant auth.Tenant, id string, change func(*AccessLog) ([]outbox.Event, error)) (*AccessLog, error)
	// ListLogs returns a page of the tenant's logs, newest check-in first.
	ListLogs(ctx context.Context, tenant auth.Tenant, f LogFilter) ([]*AccessLog, int, error)
	// OnSite returns the tenant's checked-in logs (of site, if not empty),
	// earliest check-in first.
	OnSite(ctx context.Context, tenant auth.Tenant, site string) ([]*AccessLog, error)
	// LogStats aggregates the tenant's logs checked in within [from, to]
	// (of site, if not empty) without handing rows to the caller. It fills
	// every Stats field but From and To; overstays count at now.
	LogStats(ctx context.Context, tenant auth.Tenant, site string, from, to, now time.Time) (*Stats, error)
}

// ErrCodeTaken means the tenant already has an active code with those digits.
var ErrCodeTaken = setyerr.E(setyerr.Conflict, "an active code with these digits exists")

// CodeFilter selects codes; Status is derived at Now.
type CodeFilter struct {
	Status string
	Site   string
	Now    time.Time
	Offset int
	Limit  int
}

// LogFilter selects logs; the dates bound checked_in_at, inclusive.
type LogFilter struct {
	Status   string
	Site     string
	Search   string // in visitor name, phone, plate, host name or unit, purpose (case-insensitive)
	From, To time.Time
	Offset   int
	Limit    int
}

// Validation is one attempt at a gate.
type Validation struct {
	Hash    []byte
	Site    string
	Now     time.Time
	Lockout Lockout
}

// Lockout is the brute-force rule: Failures guesses (codes that match no
// code of the tenant at the site) for one site within Window lock its
// validation for Lock. Refusals of real codes never count.
type Lockout struct {
	Failures int
	Window   time.Duration
	Lock     time.Duration
}

// Decision is the service's verdict on a code.
type Decision struct {
	Reason string     // ReasonOK accepts
	Log    *AccessLog // the visit to open with the use; nil: a check that uses nothing
	Events []outbox.Event
}

package incident

//go:generate go tool mockgen -source=store.go -destination=../adapters/mock/incident_store.go -package=mock -mock_names=Store=IncidentStore,ResponderStore=ResponderStore,Dispatcher=Dispatcher

import (
	"context"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/internal/validate"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
)

// Store persists incidents and writes their outbox events in the same
// transaction. Implementations return setyerr.NotFound for an incident that
// does not exist or belongs to another tenant, and must hand out copies:
// changing a returned incident never changes what is stored.
type Store interface {
	// CreateIncident inserts inc and carries out effects (its events, and
	// the claim of the responder it was assigned at once, if any)
	// atomically, and returns inc with created=true. If inc has an
	// idempotency key that the tenant already used, it writes nothing and
	// returns the existing incident with created=false; among concurrent
	// creates with one key exactly one wins. A claimed responder that is not
	// available fails the create with ErrResponderUnavailable, writing
	// nothing.
	CreateIncident(ctx context.Context, inc *Incident, effects Effects) (stored *Incident, created bool, err error)

	// GetIncident returns the tenant's incident id, or NotFound.
	GetIncident(ctx context.Context, tenant auth.Tenant, id string) (*Incident, error)

	// ListIncidents returns one page of the tenant's incidents matching f,
	// newest first (ties by id, descending), and how many match in all.
	ListIncidents(ctx context.Context, tenant auth.Tenant, f Filter) ([]*Incident, int, error)

	// UpdateIncident loads the tenant's incident id, calls change on it and,
	// if change returns no error, stores the changed incident and carries
	// out the Effects change returned, all in one transaction. Concurrent
	// updates of one incident are serialized: change always sees the latest
	// committed state. An error from change (or from a claim) is returned as
	// is and nothing is written.
	UpdateIncident(ctx context.Context, tenant auth.Tenant, id string, change func(*Incident) (Effects, error)) (*Incident, error)

	// DueIncidents returns up to limit active incidents of every tenant whose
	// Tracking.DueAt is set and not after now, earliest due first.
	DueIncidents(ctx context.Context, now time.Time, limit int) ([]*Incident, error)

	// QueuedNear returns up to limit of the tenant's live (not drill)
	// incidents waiting in dispatching for a responder whose location is
	// within radiusM metres of at (great-circle distance): most severe
	// first, then oldest, then by id. Its cost follows the incidents near
	// at, not the length of the queue.
	QueuedNear(ctx context.Context, tenant auth.Tenant, at geo.Point, radiusM float64, limit int) ([]*Incident, error)

	// CountActive counts the active incidents of every tenant by
	// environment and status, and the live ones queued for a responder,
	// from an index (metrics read it at every scrape).
	CountActive(ctx context.Context) (ActiveCounts, error)

	// QueuedTenants returns up to limit tenants that have live incidents
	// waiting in dispatching, for the dispatcher's safety-net sweep.
	QueuedTenants(ctx context.Context, limit int) ([]auth.Tenant, error)

	// Lease gives the lease called name to owner until until if it is free
	// at now (never taken, expired at or before now, or owner's already),
	// and reports whether owner holds it. Instances sharing the store take
	// a lease before a sweep, so one of them at a time sweeps; an owner
	// renews its lease by taking it again, and gives it up early by taking
	// it until now. Of concurrent takers of a free lease, exactly one gets
	// it.
	Lease(ctx context.Context, name, owner string, now, until time.Time) (bool, error)

	// IncidentAnalytics aggregates the tenant's incidents created in
	// [from, to] without handing every row to the caller. It fills every
	// field except From, To and the rates, which the service derives.
	IncidentAnalytics(ctx context.Context, tenant auth.Tenant, from, to time.Time) (*IncidentAnalytics, error)
}

// QueueingStore is an optional capability of a Store whose transactions
// also cover its ResponderStore's pool: it stores a live incident queued
// only if no responder is available to it, atomically. With it, Service
// stores a queued incident in one step; without it, Service ranks the pool
// before the commit and again after it, so that a responder freed in
// between is not missed. The memory, SQLite and PostgreSQL adapters
// implement it (one lock; one writer, whose transaction holds SQLite's
// write lock across processes; a per-tenant lock that queued creates
// share and changes freeing a responder take alone).
type QueueingStore interface {
	// CreateQueued is CreateIncident for a live incident that enters
	// dispatching with nobody assigned. In the transaction that inserts
	// it, it first looks for an available responder of the incident's
	// tenant within withinM metres of its location (great-circle
	// distance); with one, it writes nothing and returns
	// ErrResponderAvailable. The look and the insert are atomic with
	// respect to every change of the tenant's pool, by any instance
	// sharing the store: a responder made available before the commit is
	// found, one made available after it is offered a queue that holds
	// the incident. An idempotency key the tenant already used returns the
	// existing incident with created=false first, as CreateIncident does.
	CreateQueued(ctx context.Context, inc *Incident, effects Effects, withinM float64) (stored *Incident, created bool, err error)
}

// ErrResponderAvailable is CreateQueued's refusal to queue an incident
// that an available responder can take.
var ErrResponderAvailable = setyerr.E(setyerr.Conflict, "a responder is available")

// Effects is what an incident change does besides changing the incident,
// in the same transaction.
type Effects struct {
	Events []outbox.Event
	// Encoded, when not nil, is the changed incident's JSON as [Encode]
	// writes it (the snapshot in the change's last event): a store that
	// keeps incidents as JSON may keep these bytes instead of encoding the
	// incident again. A store must not change them. nil: not at hand.
	Encoded []byte
	// Claim makes the responder with this id busy with the incident. If it
	// is not available the whole update fails with ErrResponderUnavailable.
	Claim string
	// Release makes the responder with this id available again, idle since
	// At, if it is still busy with this incident.
	Release string
	At      time.Time
}

// ErrResponderUnavailable is the error of an update whose claimed responder
// was taken or went off duty since it was chosen.
var ErrResponderUnavailable = setyerr.E(setyerr.Conflict, "responder is not available")

// ResponderStore persists a tenant's response pool and finds its nearest
// available members through a spatial index. The same adapter implements
// Store, so a claim in UpdateIncident and the pool share transactions.
type ResponderStore interface {
	// UpdateResponder loads the tenant's responder id (exists=false and a
	// zero Responder with its id and tenant set when there is none), calls
	// change and stores the result atomically, keeping the spatial index of
	// available responders in step. An error from change writes nothing.
	UpdateResponder(ctx context.Context, tenant auth.Tenant, id string, change func(r *Responder, exists bool) error) (*Responder, error)

	// ListResponders returns a page of the tenant's responders by id, and
	// how many match.
	ListResponders(ctx context.Context, tenant auth.Tenant, f ResponderFilter) ([]*Responder, int, error)

	// NearestAvailable returns up to limit of the tenant's available
	// responders within withinM metres of at (0: at any distance), nearest
	// first by great-circle distance; at equal distance the one idle longest
	// comes first. It must use a spatial index, not a scan of the pool, and
	// a bounded search never looks farther than withinM.
	NearestAvailable(ctx context.Context, tenant auth.Tenant, at geo.Point, limit int, withinM float64) ([]*Responder, error)
}

// ResponderFilter selects responders for ListResponders.
type ResponderFilter struct {
	Status ResponderStatus // empty: any
	ID     string          // one responder by id; empty: all
	Offset int
	Limit  int
}

// Filter selects incidents for ListIncidents. Empty lists match everything.
type Filter struct {
	Statuses   []Status
	Categories []Category
	Severities []Severity
	From, To   time.Time // bounds on created_at, inclusive; zero is unbounded
	Offset     int
	Limit      int // at least 1
}

// check refuses unknown and repeated values in the filter's lists: a store
// then never sees a list longer than its enum.
func (f Filter) check() error {
	if err := validate.Set("status", f.Statuses, Status.Valid); err != nil {
		return err
	}
	if err := validate.Set("category", f.Categories, Category.Valid); err != nil {
		return err
	}
	return validate.Set("severity", f.Severities, Severity.Valid)
}

// ActiveCounts is how many active incidents each environment holds in each
// status, and how many live ones wait for a responder.
type ActiveCounts struct {
	Active map[auth.Environment]map[Status]int // absent: none
	Queued int
}

// Add counts n active incidents of env in status st.
func (c *ActiveCounts) Add(env auth.Environment, st Status, n int) {
	if c.Active == nil {
		c.Active = map[auth.Environment]map[Status]int{}
	}
	if c.Active[env] == nil {
		c.Active[env] = map[Status]int{}
	}
	c.Active[env][st] += n
}

// Dispatcher chooses responders for a live incident.
type Dispatcher interface {
	// Rank returns the responders best suited to inc, best first, with
	// distance and ETA filled in. An empty list leaves the incident queued
	// in dispatching until a responder frees up.
	Rank(ctx context.Context, inc *Incident) ([]ResponderAssignment, error)
}

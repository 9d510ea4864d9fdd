package incident

//go:generate go tool mockgen -source=store.go -destination=../adapters/mock/incident_store.go -package=mock -mock_names=Store=IncidentStore,Notifier=IncidentNotifier

import (
	"context"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/outbox"
)

// Store persists incidents and writes their outbox events in the same
// transaction. Implementations return setyerr.NotFound for an incident that
// does not exist or belongs to another tenant, and must hand out copies:
// changing a returned incident never changes what is stored.
type Store interface {
	// CreateIncident inserts inc and event atomically and returns inc with
	// created=true. If inc has an idempotency key that the tenant already
	// used, it writes nothing and returns the existing incident with
	// created=false; among concurrent creates with one key exactly one wins.
	CreateIncident(ctx context.Context, inc *Incident, event outbox.Event) (stored *Incident, created bool, err error)

	// GetIncident returns the tenant's incident id, or NotFound.
	GetIncident(ctx context.Context, tenant auth.Tenant, id string) (*Incident, error)

	// ListIncidents returns one page of the tenant's incidents matching f,
	// newest first (ties by id, descending), and how many match in all.
	ListIncidents(ctx context.Context, tenant auth.Tenant, f Filter) ([]*Incident, int, error)

	// UpdateIncident loads the tenant's incident id, calls change on it and,
	// if change returns no error, stores the changed incident and the events
	// change returned in one transaction. Concurrent updates of one incident
	// are serialized: change always sees the latest committed state. An
	// error from change is returned as is and nothing is written.
	UpdateIncident(ctx context.Context, tenant auth.Tenant, id string, change func(*Incident) ([]outbox.Event, error)) (*Incident, error)
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

// Notifier hears of events after their transaction committed. The webhook
// worker implements it to wake early; losing a notification loses nothing,
// because the events are in the store.
type Notifier interface {
	Notify(ctx context.Context, events []outbox.Event)
}

package webhook

//go:generate go tool mockgen -source=store.go -destination=../adapters/mock/webhook_store.go -package=mock -mock_names=Store=WebhookStore,Queue=WebhookQueue

import (
	"context"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/outbox"
)

// Store keeps a tenant's endpoints and the log of their deliveries: what the
// Service's requests read and write. Every method is one transaction.
// Anything of another tenant is setyerr.NotFound, as if it did not exist;
// values go in and come out as copies.
type Store interface {
	// CreateEndpoint inserts e. An endpoint id that exists is
	// setyerr.Conflict.
	CreateEndpoint(ctx context.Context, e *Endpoint) error
	// GetEndpoint returns the tenant's endpoint id, or ErrEndpointNotFound
	// (setyerr.NotFound).
	GetEndpoint(ctx context.Context, tenant auth.Tenant, id string) (*Endpoint, error)
	// ListEndpoints returns a page of the tenant's endpoints, oldest first
	// (then by id), and how many there are in all, both read from one
	// snapshot.
	ListEndpoints(ctx context.Context, tenant auth.Tenant, offset, limit int) ([]*Endpoint, int, error)
	// UpdateEndpoint loads the tenant's endpoint id, calls change and stores
	// the result atomically; an error from change is returned as it is and
	// writes nothing. The id and tenant never change. A missing endpoint is
	// ErrEndpointNotFound.
	UpdateEndpoint(ctx context.Context, tenant auth.Tenant, id string, change func(*Endpoint) error) (*Endpoint, error)
	// DeleteEndpoint removes the tenant's endpoint id and its deliveries, or
	// returns ErrEndpointNotFound.
	DeleteEndpoint(ctx context.Context, tenant auth.Tenant, id string) error

	// AddDelivery stores an event that skips the outbox (a ping) as already
	// published, so FanOut never takes it, with its one delivery, in one
	// transaction. An endpoint not in d's tenant is ErrEndpointNotFound; an
	// event or delivery id that exists, or a repeated subject sequence, is
	// setyerr.Conflict.
	AddDelivery(ctx context.Context, ev outbox.Event, d *Delivery) error
	// ListDeliveries returns a page of an endpoint's deliveries, newest
	// first (then by id, descending), and how many match in all, both read
	// from one snapshot; status "" is any.
	ListDeliveries(ctx context.Context, tenant auth.Tenant, endpointID, status string, offset, limit int) ([]*Delivery, int, error)
	// GetDelivery returns one delivery of the tenant's endpoint, or
	// setyerr.NotFound.
	GetDelivery(ctx context.Context, tenant auth.Tenant, endpointID, id string) (*Delivery, error)
	// InsertDelivery stores a new delivery of an event already in the store
	// (a manual redelivery); the worker claims it when it is due. An
	// endpoint not in d's tenant is ErrEndpointNotFound; a delivery id that
	// exists is setyerr.Conflict.
	InsertDelivery(ctx context.Context, d *Delivery) error
}

// Queue is the work of the delivery worker: committed outbox events become
// deliveries, and deliveries are leased to one worker at a time. Any number
// of workers, in one process or in several over one database, may use it at
// once. Delivery is at least once: a worker that dies between sending and
// FinishAttempt leaves its lease to expire, and the delivery is attempted
// again. Every method is one transaction; a storage that cannot answer now
// is setyerr.Unavailable.
type Queue interface {
	// FanOut takes up to limit unpublished outbox events, in commit order,
	// and in one transaction inserts the deliveries plan returns for each
	// (given the enabled endpoints of the event's tenant, by id) and marks
	// the events published. It returns how many events it took. Each
	// committed event is taken by exactly one FanOut, however many run at
	// once; an error takes none.
	FanOut(ctx context.Context, limit int, plan func(ev outbox.Event, endpoints []*Endpoint) []*Delivery) (int, error)

	// ClaimDeliveries leases to owner, until until, up to limit pending
	// deliveries of enabled endpoints that are due at now and not in an
	// unexpired lease, earliest due first (then in insertion order). A
	// delivery is in at most one unexpired lease: of concurrent claims,
	// exactly one gets it, and nobody else does until until has passed.
	// Each Job holds copies of the delivery, its endpoint and its event.
	ClaimDeliveries(ctx context.Context, owner string, now, until time.Time, limit int) ([]Job, error)

	// FinishAttempt records an attempt of a delivery leased by owner: it
	// calls change with the delivery and its endpoint, stores both and ends
	// the lease, in one transaction. A lease lost meanwhile (expired and
	// taken by another owner) is setyerr.Conflict and writes nothing, as
	// does an error from change (returned as it is). A delivery that no
	// longer exists (its endpoint was deleted) is setyerr.NotFound.
	FinishAttempt(ctx context.Context, owner, deliveryID string, change func(*Delivery, *Endpoint) error) error
}

// Job is a leased delivery with what attempting it needs.
type Job struct {
	Delivery *Delivery
	Endpoint *Endpoint
	Event    outbox.Event
}

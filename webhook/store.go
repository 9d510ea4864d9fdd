package webhook

//go:generate go tool mockgen -source=store.go -destination=../adapters/mock/webhook_store.go -package=mock -mock_names=Store=WebhookStore

import (
	"context"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/outbox"
)

// Store persists endpoints and deliveries and turns outbox events into
// deliveries. Implementations return setyerr.NotFound for anything of
// another tenant, and hand out copies.
type Store interface {
	// CreateEndpoint inserts e.
	CreateEndpoint(ctx context.Context, e *Endpoint) error
	// GetEndpoint returns the tenant's endpoint id.
	GetEndpoint(ctx context.Context, tenant auth.Tenant, id string) (*Endpoint, error)
	// ListEndpoints returns a page of the tenant's endpoints, oldest first.
	ListEndpoints(ctx context.Context, tenant auth.Tenant, offset, limit int) ([]*Endpoint, int, error)
	// UpdateEndpoint loads the tenant's endpoint id, calls change and stores
	// the result atomically; an error from change writes nothing.
	UpdateEndpoint(ctx context.Context, tenant auth.Tenant, id string, change func(*Endpoint) error) (*Endpoint, error)
	// DeleteEndpoint removes the tenant's endpoint id and its deliveries.
	DeleteEndpoint(ctx context.Context, tenant auth.Tenant, id string) error

	// FanOut takes up to limit unpublished outbox events, oldest first, and
	// in one transaction inserts the deliveries plan returns for each (given
	// the enabled endpoints of the event's tenant) and marks the events
	// published. It returns how many events it took.
	FanOut(ctx context.Context, limit int, plan func(ev outbox.Event, endpoints []*Endpoint) []*Delivery) (int, error)

	// AddDelivery stores an event that skips the outbox (a ping) as
	// published, with its one delivery, in one transaction.
	AddDelivery(ctx context.Context, ev outbox.Event, d *Delivery) error

	// ClaimDeliveries leases to owner, until until, up to limit pending
	// deliveries of enabled endpoints that are due at now and not leased by
	// another owner, earliest due first. A delivery is in at most one
	// unexpired lease, so several workers never attempt it at once.
	ClaimDeliveries(ctx context.Context, owner string, now, until time.Time, limit int) ([]Job, error)

	// FinishAttempt records an attempt of a delivery leased by owner: it
	// calls change with the delivery and its endpoint, stores both and ends
	// the lease. A lease lost meanwhile (expired and taken by another
	// owner) is setyerr.Conflict and writes nothing.
	FinishAttempt(ctx context.Context, owner, deliveryID string, change func(*Delivery, *Endpoint) error) error

	// ListDeliveries returns a page of an endpoint's deliveries, newest
	// first; status "" is any.
	ListDeliveries(ctx context.Context, tenant auth.Tenant, endpointID, status string, offset, limit int) ([]*Delivery, int, error)
	// GetDelivery returns one delivery of the tenant's endpoint.
	GetDelivery(ctx context.Context, tenant auth.Tenant, endpointID, id string) (*Delivery, error)
	// InsertDelivery stores a new delivery of an event already in the store
	// (a manual redelivery).
	InsertDelivery(ctx context.Context, d *Delivery) error
}

// Job is a leased delivery with what attempting it needs.
type Job struct {
	Delivery *Delivery
	Endpoint *Endpoint
	Event    outbox.Event
}

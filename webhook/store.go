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
	// ResumeEndpoint is UpdateEndpoint for a change that may enable the
	// endpoint: if the endpoint was disabled and change leaves it enabled,
	// its skipped deliveries created at or after since become pending, due
	// at now, in the same transaction (they keep their places in their
	// lines). Otherwise it is UpdateEndpoint.
	ResumeEndpoint(ctx context.Context, tenant auth.Tenant, id string, since, now time.Time, change func(*Endpoint) error) (*Endpoint, error)
	// DeleteEndpoint removes the tenant's endpoint id and its deliveries, or
	// returns ErrEndpointNotFound.
	DeleteEndpoint(ctx context.Context, tenant auth.Tenant, id string) error
	// PendingCounts returns how many pending deliveries each of the
	// tenant's endpoints among ids has (0 for none), read from one
	// snapshot; an id that is not an endpoint of the tenant is left out.
	// (Each tenant sees its own endpoints' backlogs; the metrics see only
	// every tenant's together, through Queue.PendingDeliveries.)
	PendingCounts(ctx context.Context, tenant auth.Tenant, ids []string) (map[string]int, error)
	// SecretKey returns the key endpoint secrets are sealed with when the
	// service has none configured, creating a random one of 32 bytes the
	// first time; every handle on one database gets the same key.
	SecretKey(ctx context.Context) ([]byte, error)

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
	// ErrDeliveryNotFound (setyerr.NotFound).
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
	// (given every endpoint of the event's tenant, enabled or disabled, by
	// id) and marks the events published; plan may be given an event
	// without its Data, which a delivery reads when it is sent. It returns
	// how many events it took. Each
	// committed event is taken by exactly one FanOut, however many run at
	// once; an error takes none. An event of a tenant with no endpoint has
	// no delivery to plan: a store may publish it with the events it takes
	// without calling plan or counting it (SQLite publishes those up to the
	// last event it took, or up to the head when it took fewer than limit).
	FanOut(ctx context.Context, limit int, plan func(ev outbox.Event, endpoints []*Endpoint) []*Delivery) (int, error)

	// ClaimDeliveries leases to c.Owner, until c.Until, up to c.Limit
	// deliveries that are claimable at c.Now, and returns them in the order
	// below. Each Job holds copies of the delivery, its endpoint and its
	// event.
	//
	// A delivery is claimable when it is pending, due (NextAttemptAt at or
	// before Now) and not in an unexpired lease (lease until after Now);
	// its endpoint is enabled and not paused (PausedUntil at or before
	// Now); and it is first in its line. A line is the pending deliveries
	// of one endpoint and one subject (the event's SubjectID: an incident,
	// a visit), ordered by the event's Sequence, then by insertion: a
	// delivery is first when no delivery earlier in its line is pending
	// (due or not, leased or not) and none of its line is in an unexpired
	// lease. So one incident's events reach one endpoint one at a time, in
	// sequence order, whichever workers claim them.
	//
	// Leases are counted across every owner: an endpoint is never in more
	// than c.PerEndpoint unexpired leases (one while its Failures are at
	// least c.ProbeAfter: a probe), nor a tenant's endpoints together in
	// more than c.PerTenant. The claim is fair: each endpoint offers its
	// claimable deliveries by (NextAttemptAt, insertion), as many as its
	// room; each tenant takes its endpoints' offers round-robin (the first
	// of each endpoint, ordered by (NextAttemptAt, insertion), then the
	// second of each...), as many as its room; and the claim takes the
	// tenants' picks round-robin the same way, up to Limit. One endpoint's
	// or one tenant's backlog never fills a claim.
	//
	// A delivery is in at most one unexpired lease: of concurrent claims,
	// exactly one gets it, and nobody else does until Until has passed.
	ClaimDeliveries(ctx context.Context, c Claim) ([]Job, error)

	// FinishAttempt records an attempt of a delivery leased by owner: it
	// calls change with the delivery and its endpoint, stores both and ends
	// the lease, in one transaction. A lease lost meanwhile (expired and
	// taken by another owner) is setyerr.Conflict and writes nothing, as
	// does an error from change (returned as it is). A delivery that no
	// longer exists (its endpoint was deleted) is setyerr.NotFound.
	FinishAttempt(ctx context.Context, owner, deliveryID string, change func(*Delivery, *Endpoint) error) error

	// UpdateEndpoints calls change with up to limit endpoints, of every
	// tenant, whose ids sort after after, in id order, and stores those for
	// which it returns true, in one transaction. It returns the last id it
	// passed to change, "" when there were none. An error from change is
	// returned as it is and stores nothing. (Secrets are re-encrypted with
	// it, a page at a time.)
	UpdateEndpoints(ctx context.Context, after string, limit int, change func(*Endpoint) (bool, error)) (string, error)

	// PendingDeliveries returns every endpoint of every tenant, by id, with
	// how many of its deliveries are pending (0 for none), read from one
	// snapshot: the backlog an operator watches (the metrics read it and
	// show its total and its largest, never an endpoint's id).
	PendingDeliveries(ctx context.Context) (map[string]int, error)

	// PurgeDeliveries deletes up to limit finished deliveries of every
	// tenant: succeeded or failed ones created before before, and skipped
	// ones created before skippedBefore. A pending delivery is never
	// deleted. It returns how many it deleted; limit of them means there may
	// be more. (The retention of the delivery log: the worker calls it in
	// batches, so no call holds the store for long.)
	PurgeDeliveries(ctx context.Context, before, skippedBefore time.Time, limit int) (int, error)

	// PurgeEvents deletes up to limit outbox events of every tenant that
	// were created before before, are published (fanned out), and that no
	// delivery refers to (so a kept delivery can still be redelivered). It
	// never deletes the newest event, so the log's Head never moves back.
	// Readers of the log resuming from a deleted position get the events
	// after it. It returns how many it deleted; limit of them means there
	// may be more.
	PurgeEvents(ctx context.Context, before time.Time, limit int) (int, error)
}

// Claim is what a worker asks ClaimDeliveries for.
type Claim struct {
	Owner string    // who takes the leases
	Now   time.Time // what is due, and which leases have expired
	Until time.Time // when the new leases expire
	Limit int       // how many deliveries at most

	// PerEndpoint caps the unexpired leases of one endpoint (by every
	// owner, this claim's included); PerTenant those of one tenant's
	// endpoints together. ProbeAfter is the Failures at which an endpoint
	// gets one lease at a time. Zero or less: no cap.
	PerEndpoint int
	PerTenant   int
	ProbeAfter  int
}

// Job is a leased delivery with what attempting it needs.
type Job struct {
	Delivery *Delivery
	Endpoint *Endpoint
	Event    outbox.Event
}

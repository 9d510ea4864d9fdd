// Package ports is what a storage adapter gives Sety: every domain's ports
// over one database ([Stores]), and the optional capabilities Sety uses
// when an adapter has them ([RateLeases], [CommitObserver], [Exclusive],
// [ConnectionPool]).
//
// Each port is declared by the domain that consumes it (incident.Store in
// incident, webhook.Queue in webhook); this package only gathers them. It
// imports nothing but the domains, so an adapter and the conformance suite
// (adapters/storetest) build without the facade, the HTTP layer or the
// metrics. A capability is a small named interface: the facade asks a
// Stores for it with a type assertion, and an adapter states that it has
// it with a compile-time assertion in its ports.go.
package ports

import (
	"context"
	"time"

	"github.com/sety-io/sety/access"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/threat"
	"github.com/sety-io/sety/webhook"
)

// Stores is what an adapter provides: every domain's ports, all over the
// same database so a domain can write its state and its outbox events in one
// transaction (webhooks have two: the endpoint store its requests use and the
// queue its delivery worker uses). adapters/memory.Store, adapters/sqlite.DB
// and adapters/postgres.DB implement it; adapters/storetest checks them.
type Stores interface {
	IncidentStore() incident.Store
	ResponderStore() incident.ResponderStore
	AuthStore() auth.Store
	WebhookStore() webhook.Store
	WebhookQueue() webhook.Queue
	AccessStore() access.Store
	ThreatSource() threat.Source
	// EventLog is the committed outbox in commit order, which every
	// instance's threat engine follows.
	EventLog() outbox.Log
	// Ping reports whether the storage answers, for the health check.
	Ping(ctx context.Context) error
}

// RateLeases is a Stores that keeps rate-limit leases every instance over
// the database shares (SQLite, PostgreSQL). With it, Sety's default rate
// limiter is an auth.LeaseLimiter over the store, exact across instances;
// without it (memory), the in-process limiter, which is the same thing for
// one process.
type RateLeases interface {
	RateLeases() auth.RateLeaseStore
}

// CommitObserver is a Stores that commits writes in batches and can say
// so: fn is told of every committed batch, its size and how long its
// commit took (sety.WithMetrics records them). SQLite's single writer has
// it.
type CommitObserver interface {
	ObserveCommits(fn func(batch int, took time.Duration))
}

// Exclusive is a Stores that can run fn in one process at a time among all
// those sharing the database (PostgreSQL, with an advisory lock named by
// name): servers started together on an empty database bootstrap it once.
// It returns fn's error, or the store's when the lock cannot be had.
type Exclusive interface {
	Exclusive(ctx context.Context, name string, fn func(context.Context) error) error
}

// ConnectionPool is a Stores that lends connections from a pool and can
// say how: the most it may open, how many are lent out now, and how many
// callers waited for one and how long in all (sety.WithMetrics serves
// them as sety_store_pool_*). PostgreSQL has it.
type ConnectionPool interface {
	PoolStats() (maxConns, inUse int, waits int64, waited time.Duration)
}

// Alone is a Stores that can say whether this instance is the only one
// with the database open, and so answers reads from what it keeps without
// looking for other instances' writes (sety.WithMetrics serves it as
// sety_store_alone). SQLite has it, on Linux.
type Alone interface {
	Alone() bool
}

package sqlstore

import (
	"github.com/sety-io/sety/access"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/threat"
	"github.com/sety-io/sety/webhook"
)

// Stores are the ports of an SQL adapter: those written once here, over
// its Driver, and those it writes itself (Own). An adapter's DB embeds
// them, so each port's accessor is written once too.
type Stores struct {
	d   Driver
	own Own
}

// Own are the ports an adapter writes itself: each is the engine's own SQL
// where the engines differ, beside the part written here (Incidents,
// Responders, Queue) that it embeds.
type Own struct {
	Incidents interface {
		incident.Store
		threat.Source
	}
	Responders incident.ResponderStore
	Queue      webhook.Queue
	Outbox     outbox.Reader
}

// NewStores returns the stores of an adapter: the shared ones on d, and
// its own.
func NewStores(d Driver, own Own) Stores { return Stores{d, own} }

// AccessStore returns the access codes and logs port.
func (s Stores) AccessStore() access.Store { return accessStore{s.d} }

// RateLeases returns the store of the rate limit's leases, so every
// process or instance over this database enforces one limit (sety.New
// uses it by default, through an auth.LeaseLimiter).
func (s Stores) RateLeases() auth.RateLeaseStore { return rateLeases{s.d} }

// WebhookStore returns the webhook endpoints and delivery log port.
func (s Stores) WebhookStore() webhook.Store { return webhookStore{s.d} }

// AuthStore returns the organizations and keys port.
func (s Stores) AuthStore() auth.Store { return authStore{s.d} }

// IncidentStore returns the incident port.
func (s Stores) IncidentStore() incident.Store { return s.own.Incidents }

// ThreatSource returns the incidents threat intelligence starts from.
func (s Stores) ThreatSource() threat.Source { return s.own.Incidents }

// ResponderStore returns the responder pool port.
func (s Stores) ResponderStore() incident.ResponderStore { return s.own.Responders }

// WebhookQueue returns the webhook delivery workers' port.
func (s Stores) WebhookQueue() webhook.Queue { return s.own.Queue }

// OutboxReader reads the events committed and not yet published: for tests
// (storetest.Stores); Sety itself does not need it.
func (s Stores) OutboxReader() outbox.Reader { return s.own.Outbox }

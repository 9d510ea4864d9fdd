package memory

import (
	"context"
	"slices"
	"sync"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
)

// Store holds every Sety table in memory behind one mutex. One lock for all
// tables makes each method a transaction, as the SQLite adapter's single
// writer connection does.
type Store struct {
	mu sync.Mutex

	orgs       map[string]*auth.Organization
	keys       map[string]*auth.APIKey // by id
	keysByHash map[string]string       // hash -> id

	incidents   map[string]*incident.Incident
	idempotency map[idemKey]string // -> incident id

	responders map[responderKey]*incident.Responder
	available  map[auth.Tenant]*availableIndex

	events    []outbox.Event
	published map[string]bool
}

type idemKey struct {
	org, env, key string
}

// New returns an empty store.
func New() *Store {
	return &Store{
		orgs:        map[string]*auth.Organization{},
		keys:        map[string]*auth.APIKey{},
		keysByHash:  map[string]string{},
		incidents:   map[string]*incident.Incident{},
		idempotency: map[idemKey]string{},
		published:   map[string]bool{},
		responders:  map[responderKey]*incident.Responder{},
		available:   map[auth.Tenant]*availableIndex{},
	}
}

// IncidentStore returns the incident port.
func (s *Store) IncidentStore() incident.Store { return (*incidentStore)(s) }

// ResponderStore returns the responder pool port.
func (s *Store) ResponderStore() incident.ResponderStore { return (*responderStore)(s) }

// AuthStore returns the organizations and keys port.
func (s *Store) AuthStore() auth.Store { return (*authStore)(s) }

// OutboxReader returns the outbox port.
func (s *Store) OutboxReader() outbox.Reader { return (*outboxReader)(s) }

// Ping always succeeds: memory is always there.
func (s *Store) Ping(context.Context) error { return nil }

// Close releases nothing; it exists so Store satisfies the same shape as
// adapters that hold resources.
func (s *Store) Close() error { return nil }

type outboxReader Store

func (r *outboxReader) PendingEvents(ctx context.Context, limit int) ([]outbox.Event, error) {
	s := (*Store)(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []outbox.Event
	for _, ev := range s.events {
		if len(out) == limit {
			break
		}
		if !s.published[ev.ID] {
			ev.Data = slices.Clone(ev.Data)
			out = append(out, ev)
		}
	}
	return out, nil
}

// appendEvents records events; callers hold mu.
func (s *Store) appendEvents(events []outbox.Event) {
	for _, ev := range events {
		ev.Data = slices.Clone(ev.Data)
		s.events = append(s.events, ev)
	}
}

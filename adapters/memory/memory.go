package memory

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/sety-io/sety/access"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
	"github.com/sety-io/sety/threat"
	"github.com/sety-io/sety/webhook"
)

// Store holds every Sety table in memory behind one mutex. One lock for all
// tables makes each method a transaction, as the SQLite adapter's single
// writer connection does.
type Store struct {
	mu sync.Mutex

	orgs       map[string]*auth.Organization
	keys       map[string]*auth.APIKey // by id
	keysByHash map[string]string       // hash -> id

	incidents   map[string]*incident.Incident // write through putIncident
	incidentIdx incidentIndex
	idempotency map[idemKey]string // -> incident id

	responders map[responderKey]*incident.Responder
	available  map[auth.Tenant]*availableIndex

	endpoints   map[string]*webhook.Endpoint
	secretKey   []byte
	deliveries  map[string]*delivery
	pending     map[string]*endpointQueue // pending deliveries by endpoint
	leased      map[string]*delivery      // pending deliveries with a lease, expired or not
	deliverySeq int

	codeKey      []byte
	codes        map[string]*access.AccessCode
	logs         map[string]*access.AccessLog
	siteFailures map[siteKey][]time.Time
	siteLocks    map[siteKey]time.Time

	// events is the outbox by position (index + 1). A purged event keeps
	// its place, as an Event with only its Position, so positions stay
	// indexes; its data goes.
	events    []outbox.Event
	eventAt   map[string]int // event id -> index in events
	published map[string]bool
	fanned    int                       // events before this index are all published (see pendingFrom)
	sequences map[string]map[int64]bool // subject id -> sequences used

	leases map[string]lease // by name
}

// lease is who holds a lease until when.
type lease struct {
	owner string
	until time.Time
}

type idemKey struct {
	org, env, key string
}

// New returns an empty store.
func New() *Store {
	return &Store{
		orgs:         map[string]*auth.Organization{},
		keys:         map[string]*auth.APIKey{},
		keysByHash:   map[string]string{},
		incidents:    map[string]*incident.Incident{},
		incidentIdx:  newIncidentIndex(),
		idempotency:  map[idemKey]string{},
		eventAt:      map[string]int{},
		published:    map[string]bool{},
		sequences:    map[string]map[int64]bool{},
		codes:        map[string]*access.AccessCode{},
		logs:         map[string]*access.AccessLog{},
		siteFailures: map[siteKey][]time.Time{},
		siteLocks:    map[siteKey]time.Time{},
		responders:   map[responderKey]*incident.Responder{},
		available:    map[auth.Tenant]*availableIndex{},
		endpoints:    map[string]*webhook.Endpoint{},
		deliveries:   map[string]*delivery{},
		pending:      map[string]*endpointQueue{},
		leased:       map[string]*delivery{},
		leases:       map[string]lease{},
	}
}

// IncidentStore returns the incident port.
func (s *Store) IncidentStore() incident.Store { return (*incidentStore)(s) }

// ResponderStore returns the responder pool port.
func (s *Store) ResponderStore() incident.ResponderStore { return (*responderStore)(s) }

// ThreatSource returns the incidents threat intelligence starts from.
func (s *Store) ThreatSource() threat.Source { return (*incidentStore)(s) }

// AccessStore returns the access codes and logs port.
func (s *Store) AccessStore() access.Store { return (*accessStore)(s) }

// WebhookStore returns the webhook endpoints and delivery log port.
func (s *Store) WebhookStore() webhook.Store { return (*webhookStore)(s) }

// WebhookQueue returns the webhook delivery worker's port.
func (s *Store) WebhookQueue() webhook.Queue { return (*webhookQueue)(s) }

// AuthStore returns the organizations and keys port.
func (s *Store) AuthStore() auth.Store { return (*authStore)(s) }

// OutboxReader reads the events committed and not yet published: for tests
// (storetest.Stores); Sety itself does not need it.
func (s *Store) OutboxReader() outbox.Reader { return (*outboxReader)(s) }

// Ping always succeeds: memory is always there.
func (s *Store) Ping(context.Context) error { return nil }

// Close releases nothing; it exists so Store satisfies the same shape as
// adapters that hold resources.
func (s *Store) Close() error { return nil }

type outboxReader Store

// EventLog returns the committed outbox in commit order.
func (s *Store) EventLog() outbox.Log { return (*outboxReader)(s) }

func (r *outboxReader) EventsAfter(ctx context.Context, after int64, f outbox.Filter, limit int) ([]outbox.Event, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	s := (*Store)(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []outbox.Event
	end := int64(len(s.events))
	if f.Through > 0 {
		end = min(end, f.Through)
	}
	next := max(after, end)
	// Positions are 1 + the index in s.events: start right after after.
	for _, ev := range s.events[min(max(after, 0), end):end] {
		if ev.ID == "" || !f.Match(ev) { // "": purged
			continue
		}
		if f.Envelopes {
			ev.Data = nil
		} else {
			ev.Data = slices.Clone(ev.Data)
		}
		if out = append(out, ev); len(out) == limit {
			next = ev.Position
			break
		}
	}
	return out, next, nil
}

func (r *outboxReader) Head(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s := (*Store)(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.events)), nil
}

func (r *outboxReader) PendingEvents(ctx context.Context, limit int) ([]outbox.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := (*Store)(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []outbox.Event
	for _, ev := range s.events[s.pendingFrom():] {
		if len(out) == limit {
			break
		}
		if ev.ID != "" && !s.published[ev.ID] {
			ev.Data = slices.Clone(ev.Data)
			out = append(out, ev)
		}
	}
	return out, nil
}

// pendingFrom returns the index of the first event that may be
// unpublished, moving past those published since it was last asked: events
// are only appended and only become published, so FanOut and PendingEvents
// start there and a long published history costs them nothing (a soak with
// 150,000 events spent 78% of the process rescanning it). Callers hold mu.
func (s *Store) pendingFrom() int {
	for s.fanned < len(s.events) && (s.events[s.fanned].ID == "" || s.published[s.events[s.fanned].ID]) {
		s.fanned++
	}
	return s.fanned
}

// checkEvents refuses events that repeat an event id or a subject's
// sequence, like the SQLite keys; callers hold mu and call it before
// changing anything.
func (s *Store) checkEvents(events []outbox.Event) error {
	for i, ev := range events {
		_, taken := s.eventAt[ev.ID]
		if taken || slices.ContainsFunc(events[:i], func(o outbox.Event) bool { return o.ID == ev.ID }) {
			return errDuplicate(ev.ID)
		}
		if s.sequences[ev.SubjectID][ev.Sequence] || slices.ContainsFunc(events[:i], func(o outbox.Event) bool {
			return o.SubjectID == ev.SubjectID && o.Sequence == ev.Sequence
		}) {
			return setyerr.E(setyerr.Conflict, "event %d of %s already exists", ev.Sequence, ev.SubjectID)
		}
	}
	return nil
}

// appendEvents records events; callers hold mu and checked them.
func (s *Store) appendEvents(events []outbox.Event) {
	for _, ev := range events {
		ev.Data = slices.Clone(ev.Data)
		s.eventAt[ev.ID] = len(s.events)
		ev.Position = int64(len(s.events) + 1)
		s.events = append(s.events, ev)
		if s.sequences[ev.SubjectID] == nil {
			s.sequences[ev.SubjectID] = map[int64]bool{}
		}
		s.sequences[ev.SubjectID][ev.Sequence] = true
	}
}

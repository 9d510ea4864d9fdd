package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"strings"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/ids"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
)

// Event types this package writes to the outbox.
const (
	TypeCreated   = "incident.created"
	TypeCancelled = "incident.cancelled"
	TypeNoteAdded = "incident.note_added"
)

// Config holds a Service's injected dependencies; zero fields get defaults
// (the system clock, random ids, no notifier, a discarding logger).
type Config struct {
	Now      clock.Func
	NewID    ids.Generator
	Notifier Notifier
	Logger   *slog.Logger
}

// Service runs the incident lifecycle for every tenant of one store.
type Service struct {
	store    Store
	now      clock.Func
	newID    ids.Generator
	notifier Notifier
	log      *slog.Logger
}

// NewService returns a Service over store.
func NewService(store Store, cfg Config) *Service {
	s := &Service{store: store, now: cfg.Now, newID: cfg.NewID, notifier: cfg.Notifier, log: cfg.Logger}
	if s.now == nil {
		s.now = clock.System
	}
	if s.newID == nil {
		s.newID = ids.New
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// Create reports a new incident for tenant. If req carries an idempotency
// key the tenant already used, it returns the existing incident with
// created=false and ignores the rest of req. Incidents of the test
// environment are always drills.
func (s *Service) Create(ctx context.Context, tenant auth.Tenant, req CreateIncidentRequest) (inc *Incident, created bool, err error) {
	if err := req.validate(); err != nil {
		return nil, false, err
	}
	now := clock.At(clock.Stamp(s.now))
	inc = &Incident{
		ID:             s.newID("inc"),
		IdempotencyKey: optional(req.IdempotencyKey),
		Category:       req.Category,
		Severity:       req.Severity,
		Status:         Created,
		Title:          strings.TrimSpace(req.Title),
		Description:    optional(req.Description),
		Location: IncidentLocation{
			Coordinates: req.Location.Coordinates,
			Address:     optional(req.Location.Address),
			Landmark:    optional(req.Location.Landmark),
		},
		IsDrill:     req.IsDrill || tenant.Env == auth.Test,
		Timeline:    []IncidentTimelineEvent{{Status: Created, Event: EventCreated, Message: "Incident received", Timestamp: now}},
		CreatedAt:   now,
		UpdatedAt:   now,
		OrgID:       tenant.OrgID,
		Environment: tenant.Env,
	}
	if inc.Severity == "" {
		inc.Severity = req.Category.DefaultSeverity()
	}
	if inc.Title == "" {
		inc.Title = req.Category.DefaultTitle()
	}
	if req.Subject != nil {
		inc.Subject = Subject{
			Name: emptyToNil(req.Subject.Name), Phone: emptyToNil(req.Subject.Phone),
			Email: emptyToNil(req.Subject.Email), Reference: emptyToNil(req.Subject.Reference),
			Metadata: maps.Clone(req.Subject.Metadata),
		}
	}
	if inc.Subject.Metadata == nil {
		inc.Subject.Metadata = map[string]string{}
	}
	ev, err := s.event(TypeCreated, inc)
	if err != nil {
		return nil, false, err
	}
	stored, created, err := s.store.CreateIncident(ctx, inc, ev)
	if err != nil {
		return nil, false, err
	}
	if created {
		s.notify(ctx, []outbox.Event{ev})
	}
	return stored, created, nil
}

// Get returns the tenant's incident id.
func (s *Service) Get(ctx context.Context, tenant auth.Tenant, id string) (*Incident, error) {
	if !ids.Valid("inc", id) {
		return nil, ErrNotFound
	}
	return s.store.GetIncident(ctx, tenant, id)
}

// List returns a page of the tenant's incidents, newest first, and the total.
func (s *Service) List(ctx context.Context, tenant auth.Tenant, f Filter) ([]*Incident, int, error) {
	if f.Limit < 1 || f.Limit > 100 {
		return nil, 0, setyerr.Invalidf("limit", "must be between 1 and 100")
	}
	if f.Offset < 0 {
		return nil, 0, setyerr.Invalidf("page", "must be at least 1")
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.From.After(f.To) {
		return nil, 0, setyerr.Invalidf("from_date", "must not be after to_date")
	}
	return s.store.ListIncidents(ctx, tenant, f)
}

// Cancel cancels an active incident, recording reason in the timeline. An
// incident that is already resolved or cancelled is a Conflict.
func (s *Service) Cancel(ctx context.Context, tenant auth.Tenant, id, reason string) (*Incident, error) {
	reason = strings.TrimSpace(reason)
	if err := checkText("reason", reason, 1000); err != nil {
		return nil, err
	}
	return s.update(ctx, tenant, id, func(inc *Incident, now clock.Time) (string, error) {
		if !inc.Status.Active() {
			return "", setyerr.E(setyerr.Conflict, "incident is %s and cannot be cancelled", inc.Status)
		}
		msg := "Incident cancelled"
		if reason != "" {
			msg += ": " + reason
		}
		inc.Status = Cancelled
		inc.CancelledAt = now
		inc.Timeline = append(inc.Timeline, IncidentTimelineEvent{Status: Cancelled, Event: EventCancelled, Message: msg, Timestamp: now})
		return TypeCancelled, nil
	})
}

// AddNote appends a note to the timeline of an incident in any status.
func (s *Service) AddNote(ctx context.Context, tenant auth.Tenant, id, message string) (*Incident, error) {
	message = strings.TrimSpace(message)
	if message == "" {
		return nil, setyerr.Invalidf("message", "is required")
	}
	if err := checkText("message", message, 2000); err != nil {
		return nil, err
	}
	return s.update(ctx, tenant, id, func(inc *Incident, now clock.Time) (string, error) {
		inc.Timeline = append(inc.Timeline, IncidentTimelineEvent{Status: inc.Status, Event: EventNoteAdded, Message: message, Timestamp: now})
		return TypeNoteAdded, nil
	})
}

// ErrNotFound is what stores return for an incident the tenant cannot see.
var ErrNotFound = setyerr.E(setyerr.NotFound, "Incident not found")

// update applies change to the stored incident and writes the event type it
// names, all in one store transaction.
func (s *Service) update(ctx context.Context, tenant auth.Tenant, id string, change func(*Incident, clock.Time) (string, error)) (*Incident, error) {
	if !ids.Valid("inc", id) {
		return nil, ErrNotFound
	}
	var events []outbox.Event
	inc, err := s.store.UpdateIncident(ctx, tenant, id, func(inc *Incident) ([]outbox.Event, error) {
		now := clock.At(clock.Stamp(s.now))
		typ, err := change(inc, now)
		if err != nil {
			return nil, err
		}
		inc.UpdatedAt = now
		ev, err := s.event(typ, inc)
		if err != nil {
			return nil, err
		}
		events = []outbox.Event{ev}
		return events, nil
	})
	if err != nil {
		return nil, err
	}
	s.notify(ctx, events)
	return inc, nil
}

// event advances inc's sequence and snapshots it into an outbox event.
func (s *Service) event(typ string, inc *Incident) (outbox.Event, error) {
	inc.Sequence++
	data, err := json.Marshal(struct {
		Incident *Incident `json:"incident"`
	}{inc})
	if err != nil {
		return outbox.Event{}, fmt.Errorf("encode %s event: %w", typ, err)
	}
	return outbox.Event{
		ID:          s.newID("evt"),
		OrgID:       inc.OrgID,
		Environment: string(inc.Environment),
		Type:        typ,
		SubjectID:   inc.ID,
		Sequence:    inc.Sequence,
		Data:        data,
		CreatedAt:   inc.UpdatedAt.Time,
	}, nil
}

func (s *Service) notify(ctx context.Context, events []outbox.Event) {
	if s.notifier != nil && len(events) > 0 {
		s.notifier.Notify(ctx, events)
	}
}

func emptyToNil(p *string) *string {
	if p == nil || *p == "" {
		return nil
	}
	return p
}

package incident

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/ids"
	"github.com/sety-io/sety/internal/defaults"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
)

// Event types this package writes to the outbox, besides the lifecycle's.
const (
	TypeCreated   = "incident.created"
	TypeCancelled = "incident.cancelled"
	TypeNoteAdded = "incident.note_added"
)

// Config holds a Service's injected dependencies; zero fields get defaults:
// the system clock, random ids, no notifier, a discarding logger, the
// built-in nearest-available dispatcher over Responders, the default SLA
// policy and simulation, and a 10 s queue retry.
type Config struct {
	Now        clock.Func
	NewID      ids.Generator
	Notifier   outbox.Notifier
	Logger     *slog.Logger
	Responders ResponderStore // the pool the built-in dispatcher and the console use
	Dispatcher Dispatcher
	SLA        SLAPolicy
	Simulation Simulation
	// DispatchRange is the farthest a responder is sent, per tenant and
	// category. Default: DefaultDispatchRange (50 km) for all.
	DispatchRange DispatchRange
	// SweepEvery is how often the dispatch queue's safety net runs.
	// Default 1 minute.
	SweepEvery time.Duration
	// Observe hears of every committed change, for metrics: the incident
	// as committed and the events the change wrote. It runs after the
	// commit in the caller's goroutine, so it must be quick. nil: none.
	Observe func(inc *Incident, events []outbox.Event)
}

// Service runs the incident lifecycle for every tenant of one store.
type Service struct {
	store         Store
	responders    ResponderStore
	now           clock.Func
	newID         ids.Generator
	notifier      outbox.Notifier
	log           *slog.Logger
	dispatcher    Dispatcher
	sla           SLAPolicy
	sim           Simulation
	dispatchRange DispatchRange
	observe       func(*Incident, []outbox.Event)
	sweepEvery    time.Duration
	wake          chan struct{}
	owner         string // this engine, as the holder of its sweeps' leases

	// queuing is the store's atomic queued create (QueueingStore) when the
	// built-in dispatcher ranks that store's own pool; nil otherwise (a
	// Dispatcher of the caller's may choose whom the store cannot see).
	queuing QueueingStore
	// lastAssigned holds the tenants whose last live create found a
	// responder: their next create ranks the pool first, the others try
	// the queued create first (see createDispatched).
	lastAssigned lastAssigned
}

// NewService returns a Service over store.
func NewService(store Store, cfg Config) *Service {
	s := &Service{
		store: store, responders: cfg.Responders, now: defaults.Clock(cfg.Now), newID: defaults.IDs(cfg.NewID), notifier: cfg.Notifier,
		log: defaults.Logger(cfg.Logger), dispatcher: cfg.Dispatcher, sla: cfg.SLA, sim: cfg.Simulation,
		dispatchRange: cfg.DispatchRange, sweepEvery: cfg.SweepEvery, observe: cfg.Observe,
		wake: make(chan struct{}, 1),
	}
	// Random, not from the injected generator: the owner never shows, and
	// tests that pin ids see the same ones as before.
	s.owner = ids.New("eng")
	if s.dispatcher == nil && s.responders != nil {
		s.dispatcher = &NearestDispatcher{Responders: s.responders, Within: s.rangeOf}
		// The pool the dispatcher ranks is the store's own (ResponderStore:
		// the same adapter implements Store), so the store can look at it
		// in the create's transaction.
		s.queuing, _ = store.(QueueingStore)
	}
	if s.sla == nil {
		s.sla = DefaultSLAPolicy()
	}
	s.sim = s.sim.withDefaults()
	if s.dispatchRange == nil {
		s.dispatchRange = func(auth.Tenant, Category) float64 { return DefaultDispatchRange }
	}
	if s.sweepEvery <= 0 {
		s.sweepEvery = time.Minute
	}
	return s
}

// Create reports a new incident for tenant; it is CreateEncoded without
// the incident's JSON.
func (s *Service) Create(ctx context.Context, tenant auth.Tenant, req CreateIncidentRequest) (inc *Incident, created bool, err error) {
	inc, _, created, err = s.CreateEncoded(ctx, tenant, req)
	return inc, created, err
}

// CreateEncoded reports a new incident for tenant. If req carries an idempotency
// key the tenant already used, it returns the existing incident with
// created=false and ignores the rest of req. A live incident is dispatched
// at once, in the same transaction: it comes back assigned, or queued in
// dispatching with a timeline entry saying why. Incidents of the test
// environment are always drills, which the sandbox simulator (run by the
// engine) walks through the lifecycle.
//
// encoded is inc's JSON as [Encode] writes it when the service has it at
// hand: for a new incident whose SLA figures, brought up to date at
// return, still show what they showed when it was stored (the JSON the
// store was handed). It is nil otherwise (an existing incident, or figures
// that moved); it must not be changed.
func (s *Service) CreateEncoded(ctx context.Context, tenant auth.Tenant, req CreateIncidentRequest) (inc *Incident, encoded []byte, created bool, err error) {
	if err := tenant.Validate(); err != nil {
		return nil, nil, false, err
	}
	if err := req.validate(); err != nil {
		return nil, nil, false, err
	}
	stamp := clock.Stamp(s.now)
	now := clock.At(stamp)
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
	inc.SLA = newSLA(stamp, s.sla[inc.Severity])
	inc.Tracking.Simulated = inc.IsDrill
	var effects Effects
	if !inc.IsDrill {
		inc, effects, created, err = s.createDispatched(ctx, inc)
	} else {
		// A drill waits for the sandbox simulator's first step.
		t := &txn{svc: s, now: stamp}
		if err := t.emit(inc, TypeCreated); err != nil {
			return nil, nil, false, err
		}
		effects = t.finish(inc)
		inc, created, err = s.store.CreateIncident(ctx, inc, effects)
		if err == nil && created {
			s.notify(ctx, inc, effects.Events)
			s.Wake()
		}
	}
	if err != nil {
		return nil, nil, false, err
	}
	return inc, s.answered(inc, created, effects.Encoded), created, nil
}

// answered brings a created incident's SLA figures up to date and returns
// doc, its JSON as stored, if they still show what doc shows: a new
// incident (not one found under its idempotency key) whose SLA state and
// figures did not move since it was stored.
func (s *Service) answered(inc *Incident, created bool, doc []byte) []byte {
	var stored SLA
	if inc.SLA != nil {
		stored = *inc.SLA
	}
	inc.refreshSLA(s.now())
	if !created || doc == nil || (inc.SLA != nil && !stored.SameFigures(*inc.SLA)) {
		return nil
	}
	return doc
}

// Get returns the tenant's incident id.
func (s *Service) Get(ctx context.Context, tenant auth.Tenant, id string) (*Incident, error) {
	if err := tenant.Validate(); err != nil {
		return nil, err
	}
	if !ids.Valid("inc", id) {
		return nil, ErrNotFound
	}
	inc, err := s.store.GetIncident(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	inc.refreshSLA(s.now())
	return inc, nil
}

// List returns a page of the tenant's incidents, newest first, and the total.
func (s *Service) List(ctx context.Context, tenant auth.Tenant, f Filter) ([]*Incident, int, error) {
	if err := tenant.Validate(); err != nil {
		return nil, 0, err
	}
	if f.Limit < 1 || f.Limit > 100 {
		return nil, 0, setyerr.Invalidf("limit", "must be between 1 and 100")
	}
	if f.Offset < 0 {
		return nil, 0, setyerr.Invalidf("page", "must be at least 1")
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.From.After(f.To) {
		return nil, 0, setyerr.Invalidf("from_date", "must not be after to_date")
	}
	if err := f.check(); err != nil {
		return nil, 0, err
	}
	items, total, err := s.store.ListIncidents(ctx, tenant, f)
	if err != nil {
		return nil, 0, err
	}
	now := s.now()
	for _, inc := range items {
		inc.refreshSLA(now)
	}
	return items, total, nil
}

// Cancel cancels an active incident, recording the reason in the timeline
// and its code on the incident, and standing its responder down. An
// incident that is already resolved or cancelled is a Conflict.
func (s *Service) Cancel(ctx context.Context, tenant auth.Tenant, id string, req CancelIncidentRequest) (*Incident, error) {
	if err := tenant.Validate(); err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(req.Reason)
	if err := checkText("reason", reason, 1000); err != nil {
		return nil, err
	}
	if req.ReasonCode != "" && !slices.Contains(CancelReasons, req.ReasonCode) {
		return nil, setyerr.Invalidf("reason_code", "must be one of false_alarm, duplicate, resolved_elsewhere, other")
	}
	inc, err := s.update(ctx, tenant, id, func(inc *Incident, t *txn) error {
		if !inc.Status.Active() {
			return setyerr.E(setyerr.Conflict, "incident is %s and cannot be cancelled", inc.Status)
		}
		msg := "Incident cancelled"
		if reason != "" {
			msg += ": " + reason
		}
		if req.ReasonCode != "" {
			code := req.ReasonCode
			inc.CancelReasonCode = &code
		}
		t.standDown(inc)
		return t.transition(inc, Cancelled, EventCancelled, msg)
	})
	if err != nil {
		return nil, err
	}
	s.afterRelease(ctx, inc)
	return inc, nil
}

// AddNote appends a note to the timeline of an incident in any status.
func (s *Service) AddNote(ctx context.Context, tenant auth.Tenant, id, message string) (*Incident, error) {
	if err := tenant.Validate(); err != nil {
		return nil, err
	}
	message = strings.TrimSpace(message)
	if message == "" {
		return nil, setyerr.Invalidf("message", "is required")
	}
	if err := checkText("message", message, 2000); err != nil {
		return nil, err
	}
	return s.update(ctx, tenant, id, func(inc *Incident, t *txn) error {
		inc.Timeline = append(inc.Timeline, IncidentTimelineEvent{Status: inc.Status, Event: EventNoteAdded, Message: message, Timestamp: clock.At(t.now)})
		return t.emit(inc, TypeNoteAdded)
	})
}

// ErrNotFound is what stores return for an incident the tenant cannot see.
var ErrNotFound = setyerr.E(setyerr.NotFound, "Incident not found")

// errNoChange lets a change decide, on the latest state, that there is
// nothing to do; update then writes nothing and returns the incident as is.
var errNoChange = errors.New("incident: no change")

// txn is one incident change in the making: the moment it happens, and the
// events and responder effects it will commit.
type txn struct {
	svc     *Service
	now     time.Time
	effects Effects
	doc     []byte // the incident's JSON in the last event emitted
}

// emit snapshots inc, as changed so far, into an outbox event of type typ.
func (t *txn) emit(inc *Incident, typ string) error {
	inc.UpdatedAt = clock.At(t.now)
	inc.refreshSLA(t.now)
	ev, doc, err := t.svc.event(typ, inc)
	if err != nil {
		return err
	}
	t.effects.Events = append(t.effects.Events, ev)
	t.doc = doc
	return nil
}

// finish ends the change of inc: it schedules the engine's next look at it
// and brings its SLA figures up to date at the change's moment, and
// returns the effects to commit. Neither changes what the incident's JSON
// shows since its last event (the schedule is not in it; the SLA figures
// were brought up to date at the same moment by that event's emit), so the
// store is handed that JSON to keep (Effects.Encoded) instead of encoding
// the incident again.
func (t *txn) finish(inc *Incident) Effects {
	inc.Tracking.DueAt = t.svc.nextDue(inc)
	inc.refreshSLA(t.now)
	t.effects.Encoded = t.doc
	if verifyEncoded != nil && t.doc != nil {
		if doc, err := verifyEncoded(inc); err != nil || !bytes.Equal(doc, t.doc) {
			panic(fmt.Sprintf("incident: %s changed after its last event:\n%s\n%s", inc.ID, t.doc, doc))
		}
	}
	return t.effects
}

// verifyEncoded, when set (by this package's tests: export_test.go), is
// encoding/json's encoding of an incident, which finish checks the JSON it
// hands the store against: the incident's own, unchanged since its last
// event, and written as encoding/json writes it.
var verifyEncoded func(*Incident) ([]byte, error)

// transition moves inc to status to, with a timeline entry and its event.
func (t *txn) transition(inc *Incident, to Status, event EventName, message string) error {
	if err := checkTransition(inc.Status, to); err != nil {
		return err
	}
	at := clock.At(t.now)
	inc.Status = to
	switch to {
	case Resolved:
		inc.ResolvedAt = at
	case Cancelled:
		inc.CancelledAt = at
	}
	inc.Timeline = append(inc.Timeline, IncidentTimelineEvent{Status: to, Event: event, Message: message, Timestamp: at})
	return t.emit(inc, eventType(event))
}

// checkRisk sends incident.sla_at_risk when the change (or time) has put
// a target at risk that was not yet.
func (t *txn) checkRisk(inc *Incident) error {
	if !inc.recordRisk(t.now) {
		return nil
	}
	return t.emit(inc, TypeSLAAtRisk)
}

// standDown frees the incident's pool responder, if it has one.
func (t *txn) standDown(inc *Incident) {
	if inc.Responder != nil && !inc.Tracking.Simulated {
		t.effects.Release, t.effects.At = inc.Responder.ResponderID, t.now
	}
}

// update applies change to the stored incident in one store transaction,
// then records any SLA breach or risk the change (or time) brought, and
// schedules the engine's next look at it.
func (s *Service) update(ctx context.Context, tenant auth.Tenant, id string, change func(*Incident, *txn) error) (*Incident, error) {
	if !ids.Valid("inc", id) {
		return nil, ErrNotFound
	}
	var t *txn
	inc, err := s.store.UpdateIncident(ctx, tenant, id, func(inc *Incident) (Effects, error) {
		t = &txn{svc: s, now: clock.Stamp(s.now)}
		due := inc.Tracking.DueAt
		// Breaches first: a target missed before this change is part of the
		// history the change comes after (a late assignment, a cancel).
		if breaches := inc.recordBreaches(t.now); len(breaches) > 0 {
			if err := t.emit(inc, TypeSLABreached); err != nil {
				return Effects{}, err
			}
		}
		if err := change(inc, t); err != nil {
			return Effects{}, err
		}
		if err := t.checkRisk(inc); err != nil {
			return Effects{}, err
		}
		if len(t.effects.Events) == 0 && t.svc.nextDue(inc).Equal(due) {
			return Effects{}, errNoChange
		}
		return t.finish(inc), nil
	})
	if errors.Is(err, errNoChange) {
		return s.Get(ctx, tenant, id)
	}
	if err != nil {
		return nil, err
	}
	s.notify(ctx, inc, t.effects.Events)
	return inc, nil
}

// event advances inc's sequence and snapshots it into an outbox event;
// doc is inc's JSON within the event's data (encode.go).
func (s *Service) event(typ string, inc *Incident) (ev outbox.Event, doc []byte, err error) {
	inc.Sequence++
	data, doc, err := encodeEvent(inc)
	if err != nil {
		return outbox.Event{}, nil, fmt.Errorf("encode %s event: %w", typ, err)
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
	}, doc, nil
}

// notify tells the observer and the notifier of a committed change: the
// observer first, so that a reader the notifier wakes (the threat feed)
// finds what the observer was told (the feed's memory of this process's
// creates, which spares it their data).
func (s *Service) notify(ctx context.Context, inc *Incident, events []outbox.Event) {
	if len(events) == 0 {
		return
	}
	if s.observe != nil {
		s.observe(inc, events)
	}
	if s.notifier != nil {
		s.notifier.Notify(ctx, events)
	}
}

func emptyToNil(p *string) *string {
	if p == nil || *p == "" {
		return nil
	}
	return p
}

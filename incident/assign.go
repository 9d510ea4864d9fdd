package incident

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/ids"
	"github.com/sety-io/sety/internal/clone"
	"github.com/sety-io/sety/setyerr"
)

// A dispatcher's own choice of responder: the console lists the nearest
// available responders of an incident (Candidates) and assigns one
// (Assign), in place of the built-in dispatcher's choice or on top of it.

// AssignRequest is the body of an assignment.
type AssignRequest struct {
	ResponderID string `json:"responder_id" maxLength:"64" example:"rsp_a1b2c3d4e5f6g7h8" doc:"The responder to send: available, in your pool in this environment."`
	Message     string `json:"message,omitempty" maxLength:"1000" example:"Unit 7 is closer to the gate" doc:"Why, added to the timeline entry."`
}

// ResponderCandidate is an available responder ranked for an incident.
type ResponderCandidate struct {
	ResponderID    string     `json:"responder_id" example:"rsp_a1b2c3d4e5f6g7h8" doc:"The responder's id."`
	Name           string     `json:"name" example:"Unit 7 — Emeka Obi" doc:"The responder's name."`
	Phone          *string    `json:"phone" example:"+2348031112222" doc:"Phone number (E.164); null when unknown."`
	Location       geo.Point  `json:"location" nullable:"false" example:"[3.4102,6.4311]" doc:"Where the responder is, [longitude, latitude]."`
	DistanceMeters float64    `json:"distance_meters" example:"1840" doc:"Great-circle distance to the incident, in metres."`
	ETASeconds     float64    `json:"eta_seconds" example:"221" doc:"Estimated travel time, in seconds, at the dispatcher's speed (default 30 km/h)."`
	WithinRange    bool       `json:"within_range" doc:"Whether the responder is within the dispatch range, the farthest the automatic dispatcher sends anyone. A dispatcher may still choose one beyond it."`
	IdleSince      clock.Time `json:"idle_since" nullable:"true" doc:"When the responder last became available."`
}

// Candidates limits: how many a call may ask for, and gets by default.
const (
	DefaultCandidates = 10
	MaxCandidates     = 50
)

// Candidates returns up to limit of the tenant's available responders
// nearest to incident id, at any distance, nearest first, with distance,
// ETA and whether each is within the dispatch range (also returned).
func (s *Service) Candidates(ctx context.Context, tenant auth.Tenant, id string, limit int) ([]ResponderCandidate, float64, error) {
	if err := tenant.Validate(); err != nil {
		return nil, 0, err
	}
	if limit == 0 {
		limit = DefaultCandidates
	}
	if limit < 1 || limit > MaxCandidates {
		return nil, 0, setyerr.Invalidf("limit", "must be between 1 and %d", MaxCandidates)
	}
	if s.responders == nil {
		return nil, 0, fmt.Errorf("incident: no responder store configured")
	}
	inc, err := s.Get(ctx, tenant, id)
	if err != nil {
		return nil, 0, err
	}
	near, err := s.responders.NearestAvailable(ctx, tenant, inc.Location.Coordinates, limit, 0)
	if err != nil {
		return nil, 0, err
	}
	within := s.rangeOf(inc)
	out := make([]ResponderCandidate, 0, len(near))
	for _, r := range near {
		a := s.assignmentOf(r, inc)
		out = append(out, ResponderCandidate{
			ResponderID: r.ID, Name: r.Name, Phone: clone.Ptr(r.Phone), Location: r.Location, IdleSince: r.IdleSince,
			DistanceMeters: a.DistanceMeters, ETASeconds: a.ETASeconds, WithinRange: a.DistanceMeters <= within,
		})
	}
	return out, within, nil
}

// speedKmh is the travel speed ETAs are computed at: the built-in
// dispatcher's.
func (s *Service) speedKmh() float64 {
	if d, ok := s.dispatcher.(*NearestDispatcher); ok && d.SpeedKmh > 0 {
		return d.SpeedKmh
	}
	return DefaultSpeedKmh
}

// assignmentOf is what sending r to inc would be, as of now.
func (s *Service) assignmentOf(r *Responder, inc *Incident) ResponderAssignment {
	dist := geo.Distance(r.Location, inc.Location.Coordinates)
	return ResponderAssignment{
		ResponderID: r.ID, Name: r.Name, Phone: clone.Ptr(r.Phone), Location: r.Location,
		DistanceMeters: math.Round(dist), ETASeconds: math.Round(dist / (s.speedKmh() / 3.6)),
	}
}

// Assign sends the tenant's responder req.ResponderID to incident id, as a
// dispatcher decides: it must be available (else Conflict) and in the
// tenant's pool (else NotFound), and the incident active (else Conflict)
// and not a drill (the sandbox gives drills their simulated responder).
// An incident waiting for a responder becomes assigned. One that has a
// responder is reassigned: it keeps its status (statuses only move
// forward) and its SLA clocks, which count from the first assignment and
// the first arrival; the previous responder is stood down and offered to
// the queue. The claim is made in the incident's transaction, so two
// dispatchers never send one responder to two incidents.
func (s *Service) Assign(ctx context.Context, tenant auth.Tenant, id string, req AssignRequest) (*Incident, error) {
	if err := tenant.Validate(); err != nil {
		return nil, err
	}
	if err := CheckResponderID("responder_id", req.ResponderID); err != nil {
		return nil, err
	}
	note := strings.TrimSpace(req.Message)
	if err := checkText("message", note, 1000); err != nil {
		return nil, err
	}
	if !ids.Valid("inc", id) {
		return nil, ErrNotFound
	}
	if s.responders == nil {
		return nil, fmt.Errorf("incident: no responder store configured")
	}
	list, _, err := s.responders.ListResponders(ctx, tenant, ResponderFilter{ID: req.ResponderID, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, setyerr.E(setyerr.NotFound, "Responder not found")
	}
	r := list[0]
	switch {
	case r.IncidentID != nil && *r.IncidentID == id:
		return nil, setyerr.E(setyerr.Conflict, "responder %s is already assigned to this incident", r.ID)
	case r.IncidentID != nil:
		return nil, setyerr.E(setyerr.Conflict, "responder %s is busy with %s", r.ID, *r.IncidentID)
	case r.Status != Available:
		return nil, setyerr.E(setyerr.Conflict, "responder %s is %s, not available", r.ID, r.Status)
	}
	var released string
	inc, err := s.update(ctx, tenant, id, func(inc *Incident, t *txn) error {
		switch {
		case inc.Tracking.Simulated:
			return setyerr.E(setyerr.Conflict, "incident is a drill: the sandbox simulator sends its simulated responder")
		case !inc.Status.Active():
			return setyerr.E(setyerr.Conflict, "incident is %s and can no longer be assigned", inc.Status)
		}
		released = ""
		if old := inc.Responder; old != nil {
			released = old.ResponderID
		}
		return t.dispatcherAssigns(inc, s.assignmentOf(r, inc), note)
	})
	if err != nil {
		return nil, err
	}
	if released != "" {
		if err := s.offerByID(ctx, tenant, released); err != nil {
			s.log.ErrorContext(ctx, "offer a stood-down responder", "error", err)
		}
	}
	return inc, nil
}

// dispatcherAssigns gives inc the dispatcher's candidate, claiming it and
// standing down the responder it replaces, with an assigned timeline entry
// and event.
func (t *txn) dispatcherAssigns(inc *Incident, cand ResponderAssignment, note string) error {
	suffix := ""
	if note != "" {
		suffix = ": " + note
	}
	old := inc.Responder
	if old == nil {
		if inc.Status == Created {
			if err := t.transition(inc, Dispatching, EventDispatching, "Dispatcher choosing a responder"); err != nil {
				return err
			}
		}
		cand.AssignedAt = clock.At(t.now)
		inc.Responder = &cand
		inc.Tracking.NoneInRange = false
		t.effects.Claim, t.effects.At = cand.ResponderID, t.now
		return t.transition(inc, Assigned, EventAssigned, fmt.Sprintf("%s assigned by the dispatcher, %s%s", cand.Name, travelText(cand), suffix))
	}
	if inc.Tracking.FirstAssignedAt.IsZero() {
		inc.Tracking.FirstAssignedAt = old.AssignedAt.Time
	}
	if inc.Tracking.FirstArrivedAt.IsZero() && !old.ArrivedAt.IsZero() {
		inc.Tracking.FirstArrivedAt = old.ArrivedAt.Time
	}
	t.standDown(inc)
	cand.AssignedAt = clock.At(t.now)
	inc.Responder = &cand
	t.effects.Claim = cand.ResponderID
	msg := fmt.Sprintf("%s assigned by the dispatcher in place of %s, %s%s", cand.Name, old.Name, travelText(cand), suffix)
	inc.Timeline = append(inc.Timeline, IncidentTimelineEvent{Status: inc.Status, Event: EventAssigned, Message: msg, Timestamp: clock.At(t.now)})
	return t.emit(inc, TypeAssigned)
}

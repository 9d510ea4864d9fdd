package incident

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/internal/validate"
	"github.com/sety-io/sety/setyerr"
)

// The operations console: what a control room (or responders' apps) does
// that the dispatcher cannot: keep the pool current and report progress.

// UpdateStatusRequest advances an incident: responding, on_scene or resolved.
type UpdateStatusRequest struct {
	Status  Status  `json:"status" enum:"responding,on_scene,resolved" example:"on_scene" doc:"The new status; statuses only move forward."`
	Message string  `json:"message,omitempty" maxLength:"1000" example:"Responder reached the gate" doc:"Timeline message; a default is used when empty."`
	Outcome Outcome `json:"outcome,omitempty" example:"handled" doc:"For resolved; default handled."`
	Notes   string  `json:"notes,omitempty" maxLength:"5000" example:"Rider taken home." doc:"Resolution notes, for resolved."`
}

// SetStatus advances an incident as its responder reports. responding and
// on_scene need an assigned responder; resolved may come from any active
// status and stands the responder down.
func (s *Service) SetStatus(ctx context.Context, tenant auth.Tenant, id string, req UpdateStatusRequest) (*Incident, error) {
	if err := tenant.Validate(); err != nil {
		return nil, err
	}
	if req.Status != Responding && req.Status != OnScene && req.Status != Resolved {
		return nil, setyerr.Invalidf("status", "must be responding, on_scene or resolved")
	}
	if req.Outcome != "" && (req.Status != Resolved || !slices.Contains(Outcomes, req.Outcome)) {
		return nil, setyerr.Invalidf("outcome", "must be one of handled, false_alarm, referred, unable_to_locate, other, and only with status resolved")
	}
	if err := checkText("message", req.Message, 1000); err != nil {
		return nil, err
	}
	if err := checkText("notes", req.Notes, 5000); err != nil {
		return nil, err
	}
	inc, err := s.update(ctx, tenant, id, func(inc *Incident, t *txn) error {
		if err := checkTransition(inc.Status, req.Status); err != nil {
			return err
		}
		msg := strings.TrimSpace(req.Message)
		switch req.Status {
		case Responding, OnScene:
			if inc.Responder == nil {
				return setyerr.E(setyerr.Conflict, "incident has no responder assigned")
			}
			if req.Status == OnScene {
				inc.Responder.ArrivedAt = clock.At(t.now)
			}
		case Resolved:
			outcome := req.Outcome
			if outcome == "" {
				outcome = Handled
			}
			inc.ResolutionOutcome, inc.ResolutionNotes = &outcome, optional(strings.TrimSpace(req.Notes))
			t.standDown(inc)
		}
		if msg == "" {
			msg = defaultStatusMessage[req.Status]
		}
		return t.transition(inc, req.Status, EventName(req.Status), msg)
	})
	if err != nil {
		return nil, err
	}
	if inc.Status == Resolved {
		s.afterRelease(ctx, inc)
	}
	return inc, nil
}

var defaultStatusMessage = map[Status]string{
	Responding: "Responder en route",
	OnScene:    "Responder on scene",
	Resolved:   "Incident resolved",
}

// ResponderInput is the body of a responder upsert.
type ResponderInput struct {
	Name     string          `json:"name" minLength:"1" maxLength:"100" example:"Unit 7 — Emeka Obi" doc:"The responder's name."`
	Phone    string          `json:"phone,omitempty" maxLength:"16" example:"+2348031112222" doc:"Phone number in E.164 form."`
	Location geo.Point       `json:"location" nullable:"false" example:"[3.4102,6.4311]" doc:"Where the responder is now, [longitude, latitude]."`
	Status   ResponderStatus `json:"status,omitempty" example:"available" doc:"Default available."`
}

// UpsertResponder creates or updates a member of the tenant's pool. A
// responder on an incident keeps status busy until the incident ends. A
// responder becoming available is offered to the queue at once.
func (s *Service) UpsertResponder(ctx context.Context, tenant auth.Tenant, id string, in ResponderInput) (*Responder, error) {
	if err := tenant.Validate(); err != nil {
		return nil, err
	}
	if err := CheckResponderID("responderId", id); err != nil {
		return nil, err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return nil, setyerr.Invalidf("name", "is required")
	}
	if err := checkText("name", in.Name, 100); err != nil {
		return nil, err
	}
	if in.Phone != "" {
		if err := validate.Phone("phone", in.Phone); err != nil {
			return nil, err
		}
	}
	if err := in.Location.Validate("location"); err != nil {
		return nil, setyerr.Invalidf("location", "%s", strings.TrimPrefix(err.Error(), "location: "))
	}
	if in.Status == "" {
		in.Status = Available
	}
	if !in.Status.Valid() {
		return nil, setyerr.Invalidf("status", "must be available, busy or offline")
	}
	if s.responders == nil {
		return nil, fmt.Errorf("incident: no responder store configured")
	}
	now := clock.Stamp(s.now)
	r, err := s.responders.UpdateResponder(ctx, tenant, id, func(r *Responder, exists bool) error {
		if exists && r.IncidentID != nil && in.Status != Busy {
			return setyerr.E(setyerr.Conflict, "responder is assigned to %s; resolve or cancel it first", *r.IncidentID)
		}
		if r.Status != Available && in.Status == Available {
			r.IdleSince = clock.At(now)
		}
		r.Name, r.Phone, r.Location, r.Status = in.Name, optional(in.Phone), in.Location, in.Status
		r.UpdatedAt = clock.At(now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if r.Status == Available && tenant.Env == auth.Live {
		if err := s.offer(ctx, tenant, r); err != nil {
			s.log.ErrorContext(ctx, "offer a responder to the queue", "error", err)
		}
		// The queue may have taken this responder: show its current state.
		if list, _, err := s.responders.ListResponders(ctx, tenant, ResponderFilter{Limit: 1, ID: id}); err == nil && len(list) == 1 {
			r = list[0]
		}
	}
	return r, nil
}

// ListResponders returns a page of the tenant's pool.
func (s *Service) ListResponders(ctx context.Context, tenant auth.Tenant, f ResponderFilter) ([]*Responder, int, error) {
	if err := tenant.Validate(); err != nil {
		return nil, 0, err
	}
	if f.Status != "" && !f.Status.Valid() {
		return nil, 0, setyerr.Invalidf("status", "must be available, busy or offline")
	}
	if s.responders == nil {
		return nil, 0, fmt.Errorf("incident: no responder store configured")
	}
	return s.responders.ListResponders(ctx, tenant, f)
}

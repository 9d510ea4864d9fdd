package incidentapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/auth/authapi"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/httpapi"
)

// ResponderResponse wraps one responder.
type ResponderResponse struct {
	Responder *incident.Responder `json:"responder" nullable:"false" doc:"The responder as stored."`
}

// ResponderIDParam is the path parameter of operations on one responder.
type ResponderIDParam struct {
	ResponderID string `path:"responderId" maxLength:"64" example:"rsp_a1b2c3d4e5f6g7h8" doc:"Your id for the responder, an rsp_ id or your own driver or unit id: 1 to 64 ASCII letters, digits, '.', '_', ':' or '-', starting with a letter or digit."`
}

type upsertResponderInput struct {
	ResponderIDParam
	Body incident.ResponderInput
}

type listRespondersInput struct {
	Status incident.ResponderStatus `query:"status" doc:"Only responders in this status."`
	httpapi.PageQuery
}

type statusInput struct {
	IDParam
	Body incident.UpdateStatusRequest
}

type assignInput struct {
	IDParam
	Body incident.AssignRequest
}

type candidatesInput struct {
	IDParam
	Limit int `query:"limit" minimum:"1" maximum:"50" default:"10" doc:"How many responders, nearest first (1–50)."`
}

// CandidatesResponse lists the responders a dispatcher may send.
type CandidatesResponse struct {
	Candidates          []incident.ResponderCandidate `json:"candidates" nullable:"false" doc:"Available responders, nearest first; empty when none is available."`
	DispatchRangeMeters float64                       `json:"dispatch_range_meters" example:"50000" doc:"The farthest the automatic dispatcher sends a responder to this incident."`
}

// RegisterConsole mounts the operations console: the responder pool,
// assignment by a dispatcher and status reports. It is separate from Register because many integrators
// dispatch with their own teams and never expose it.
func RegisterConsole(api huma.API, svc *incident.Service, log *slog.Logger) {
	authapi.Enums(api.OpenAPI().Components.Schemas)
	Enums(api.OpenAPI().Components.Schemas)
	const tag = "Operations console"
	scope := string(auth.RespondersWrite)
	huma.Register(api, huma.Operation{
		OperationID: "upsert-responder", Method: http.MethodPut, Path: "/responders/{responderId}", Tags: []string{tag},
		Summary: "Create or update a responder",
		Description: "Puts a responder in your pool, or updates its name, phone, position and status. " +
			"Available responders are dispatched to the nearest live incidents; one becoming available takes the oldest, most severe queued incident at once. " +
			"A responder on an incident stays busy until the incident is resolved or cancelled (409 otherwise).",
		Metadata: httpapi.Scope(scope),
		Errors:   []int{http.StatusBadRequest, http.StatusConflict, http.StatusRequestEntityTooLarge},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *upsertResponderInput) (*httpapi.Output[ResponderResponse], error) {
		r, err := svc.UpsertResponder(ctx, tenant, in.ResponderID, in.Body)
		return httpapi.Reply(ResponderResponse{Responder: r}, err)
	})))

	huma.Register(api, huma.Operation{
		OperationID: "list-responders", Method: http.MethodGet, Path: "/responders", Tags: []string{tag},
		Summary:     "List responders",
		Description: "Returns your response pool in this environment, by id.",
		Metadata:    httpapi.Scope(scope),
		Errors:      []int{http.StatusBadRequest},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *listRespondersInput) (*httpapi.ListOutput[*incident.Responder], error) {
		items, total, err := svc.ListResponders(ctx, tenant, incident.ResponderFilter{Status: in.Status, Offset: in.Offset(), Limit: in.Limit})
		return httpapi.List(in.PageQuery, items, total, err)
	})))

	huma.Register(api, huma.Operation{
		OperationID: "update-incident-status", Method: http.MethodPost, Path: "/incidents/{incidentId}/status", Tags: []string{tag},
		Summary: "Report incident progress",
		Description: "Advances an incident as its responder reports: `responding`, `on_scene` (records the arrival) or `resolved` " +
			"(with an outcome, default `handled`; stands the responder down). Statuses only move forward; skipping ahead is allowed.",
		Metadata: httpapi.Scope(scope),
		Errors:   []int{http.StatusBadRequest, http.StatusNotFound, http.StatusConflict, http.StatusRequestEntityTooLarge},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *statusInput) (*incidentOutput, error) {
		return incidentResult(svc.SetStatus(ctx, tenant, in.IncidentID, in.Body))
	})))

	huma.Register(api, huma.Operation{
		OperationID: "list-responder-candidates", Method: http.MethodGet, Path: "/incidents/{incidentId}/candidates", Tags: []string{tag},
		Summary: "List responders to send",
		Description: "Returns your available responders nearest to the incident, at any distance, with distance, ETA and whether each " +
			"is within the dispatch range: the choices for `POST /incidents/{incidentId}/assign`.",
		Metadata: httpapi.Scope(scope),
		Errors:   []int{http.StatusBadRequest, http.StatusNotFound},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *candidatesInput) (*httpapi.Output[CandidatesResponse], error) {
		items, within, err := svc.Candidates(ctx, tenant, in.IncidentID, in.Limit)
		return httpapi.Reply(CandidatesResponse{Candidates: items, DispatchRangeMeters: within}, err)
	})))

	huma.Register(api, huma.Operation{
		OperationID: "assign-incident", Method: http.MethodPost, Path: "/incidents/{incidentId}/assign", Tags: []string{tag},
		Summary: "Assign or reassign a responder",
		Description: "Sends the responder you choose: it must be available and in your pool in this environment (404 otherwise); " +
			"a busy or offline responder, a drill (the sandbox sends its own) or an incident that is resolved or cancelled is 409. " +
			"An incident waiting for a responder becomes `assigned`. One that has a responder is reassigned: the previous responder " +
			"is stood down, and the incident keeps its status and its SLA clocks (counted from the first assignment and arrival). " +
			"Either way the timeline gets an `assigned` entry and webhooks an `incident.assigned` event. The dispatch range does not " +
			"apply: a dispatcher may send anyone.",
		Metadata: httpapi.Scope(scope),
		Errors:   []int{http.StatusBadRequest, http.StatusNotFound, http.StatusConflict, http.StatusRequestEntityTooLarge},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *assignInput) (*incidentOutput, error) {
		return incidentResult(svc.Assign(ctx, tenant, in.IncidentID, in.Body))
	})))
}

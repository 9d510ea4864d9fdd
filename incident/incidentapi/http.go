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

// CreateIncidentResponse is the body of a create: the incident and whether
// it already existed under the request's idempotency key.
type CreateIncidentResponse struct {
	Incident   *incident.Incident `json:"incident" nullable:"false" doc:"The incident: new, or the existing one for a repeated idempotency_key."`
	Idempotent bool               `json:"idempotent" doc:"True when an earlier request with the same idempotency_key created the incident."`

	encoded *createdJSON // its JSON, when the create had the incident's at hand (created.go); a pointer keeps the type comparable
}

// IncidentResponse wraps one incident.
type IncidentResponse struct {
	Incident *incident.Incident `json:"incident" nullable:"false" doc:"The incident."`

	encoded *encodedIncident // its JSON, when a get kept it (encoded.go); a pointer keeps the type comparable
}

type createInput struct {
	Body incident.CreateIncidentRequest
}

// Resolve decodes and checks the body (the operation skips huma's
// validation, which walks a map[string]any tree of the body).
func (in *createInput) Resolve(ctx huma.Context) []error { return httpapi.ResolveBody(ctx, &in.Body) }

// IDParam is the path parameter of operations on one incident.
type IDParam struct {
	IncidentID string `path:"incidentId" maxLength:"64" example:"inc_a1b2c3d4e5f6g7h8" doc:"The incident id."`
}

// plainID reads the IDParam of a request that huma's parameter handling
// would take as it is: an id within its maxLength (in bytes, so in runes
// too) and no query string (a host's huma may refuse unknown ones).
func plainID(ctx huma.Context) (IDParam, bool) {
	id := ctx.Param("incidentId")
	return IDParam{IncidentID: id}, id != "" && len(id) <= 64 && ctx.URL().RawQuery == ""
}

type listInput struct {
	Status   string `query:"status" doc:"One status or several, comma-separated, each at most once." example:"created,dispatching"`
	Category string `query:"category" example:"sos,medical" doc:"One category or several, comma-separated, each at most once."`
	Severity string `query:"severity" example:"high,critical" doc:"One severity or several, comma-separated, each at most once."`
	FromDate string `query:"from_date" example:"2026-03-01" doc:"Created at or after: RFC 3339 or YYYY-MM-DD (start of day, UTC)."`
	ToDate   string `query:"to_date" example:"2026-03-10" doc:"Created at or before: RFC 3339 or YYYY-MM-DD (end of day, UTC)."`
	httpapi.PageQuery
}

type analyticsInput struct {
	FromDate string `query:"from_date" doc:"Window start: RFC 3339 or YYYY-MM-DD. Default: 30 days before to_date."`
	ToDate   string `query:"to_date" doc:"Window end: RFC 3339 or YYYY-MM-DD (end of day). Default: now."`
}

type cancelInput struct {
	IDParam
	Body *incident.CancelIncidentRequest `required:"false"`
}

type noteInput struct {
	IDParam
	Body incident.AddNoteRequest
}

// Register mounts the incident operations on api (a group already prefixed
// with the API base path and guarded by auth.Middleware).
func Register(api huma.API, svc *incident.Service, log *slog.Logger) {
	authapi.Enums(api.OpenAPI().Components.Schemas)
	Enums(api.OpenAPI().Components.Schemas)
	const tag = "Incidents"
	encoded := newEncodedIncidents()
	huma.Register(api, huma.Operation{
		OperationID: "report-incident", Method: http.MethodPost, Path: "/incidents", Tags: []string{tag},
		Summary: "Create incident",
		Description: "Reports an emergency for one of your users; Sety dispatches the nearest available responder. " +
			"A repeated `idempotency_key` returns the existing incident with 200 and `\"idempotent\": true`, whatever the new body. " +
			"Incidents created with a test key are drills and are never sent to real responders.",
		Metadata: httpapi.Scope(auth.IncidentsWrite).Example(http.StatusOK, map[string]any{"idempotent": true}), DefaultStatus: http.StatusCreated,
		SkipValidateBody: true, // createInput.Resolve validates the body, as huma would
		Responses: map[string]*huma.Response{
			"200": {Description: "The `idempotency_key` was used before: the existing incident, unchanged, with `\"idempotent\": true`."},
			"503": {Description: "Storage unavailable: retry after `Retry-After` seconds with the same `idempotency_key`. " +
				"The incident may have been created before storage failed; the retry then returns it (200) and never makes a second one."},
		},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *createInput) (*httpapi.StatusOutput[CreateIncidentResponse], error) {
		inc, encoded, created, err := svc.CreateEncoded(ctx, tenant, in.Body)
		if err != nil {
			return nil, err
		}
		out := &httpapi.StatusOutput[CreateIncidentResponse]{Status: http.StatusCreated, Body: createdResponse(inc, encoded, !created)}
		if !created {
			out.Status = http.StatusOK
		}
		return out, nil
	})))

	huma.Register(api, huma.Operation{
		OperationID: "list-incidents", Method: http.MethodGet, Path: "/incidents", Tags: []string{tag},
		Summary:     "List incidents",
		Description: "Returns your organization's incidents in this environment, newest first, filtered and paginated.",
		Metadata:    httpapi.Scope(auth.IncidentsRead),
		Errors:      []int{http.StatusBadRequest},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *listInput) (*httpapi.ListOutput[*incident.Incident], error) {
		f, err := in.filter()
		if err != nil {
			return nil, err
		}
		items, total, err := svc.List(ctx, tenant, f)
		return httpapi.List(in.PageQuery, items, total, err)
	})))

	huma.Register(api, huma.Operation{
		OperationID: "incident-analytics", Method: http.MethodGet, Path: "/incidents/analytics", Tags: []string{tag},
		Summary: "Incident analytics",
		Description: "Counts by status, category and severity, drills, the cancelled share, time to assign and to arrive " +
			"(p50, p90, mean), the SLA met rate and incidents per day, over incidents created in the window (default: the last 30 days, at most 366).",
		Metadata: httpapi.Scope(auth.IncidentsRead),
		Errors:   []int{http.StatusBadRequest},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *analyticsInput) (*httpapi.Output[*incident.IncidentAnalytics], error) {
		from, to, err := httpapi.DateRange(in.FromDate, in.ToDate)
		if err != nil {
			return nil, err
		}
		return httpapi.Reply(svc.Analytics(ctx, tenant, from, to))
	})))

	get := authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *IDParam) (*incidentOutput, error) {
		inc, version, err := svc.Peek(ctx, tenant, in.IncidentID)
		if err != nil {
			return nil, err
		}
		return &incidentOutput{Body: encoded.response(inc, version)}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "get-incident", Method: http.MethodGet, Path: "/incidents/{incidentId}", Tags: []string{tag},
		Summary:     "Get incident",
		Description: "Returns the current state of one incident, with its timeline. Meant for polling; webhooks are preferred for real-time updates.",
		Metadata:    httpapi.Scope(auth.IncidentsRead),
		Errors:      []int{http.StatusNotFound},
		// The commonest request: answered without huma's reflection.
		Middlewares: huma.Middlewares{httpapi.Direct(api, log, plainID, get)},
	}, httpapi.Errors(log, get))

	huma.Register(api, huma.Operation{
		OperationID: "cancel-incident", Method: http.MethodPost, Path: "/incidents/{incidentId}/cancel", Tags: []string{tag},
		Summary: "Cancel incident",
		Description: "Cancels an active incident, e.g. when the user confirms they are safe or it was a false alarm. " +
			"Resolved or cancelled incidents cannot be cancelled (409). The responder, if any, is stood down.",
		Metadata: httpapi.Scope(auth.IncidentsWrite),
		Errors:   []int{http.StatusBadRequest, http.StatusNotFound, http.StatusConflict, http.StatusRequestEntityTooLarge},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *cancelInput) (*incidentOutput, error) {
		var req incident.CancelIncidentRequest
		if in.Body != nil {
			req = *in.Body
		}
		return incidentResult(svc.Cancel(ctx, tenant, in.IncidentID, req))
	})))

	huma.Register(api, huma.Operation{
		OperationID: "add-incident-note", Method: http.MethodPost, Path: "/incidents/{incidentId}/notes", Tags: []string{tag},
		Summary:     "Add note",
		Description: "Appends a note to the incident's timeline. Allowed in any status.",
		Metadata:    httpapi.Scope(auth.IncidentsWrite), DefaultStatus: http.StatusCreated,
		Errors: []int{http.StatusBadRequest, http.StatusNotFound, http.StatusRequestEntityTooLarge},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *noteInput) (*incidentOutput, error) {
		return incidentResult(svc.AddNote(ctx, tenant, in.IncidentID, in.Body.Message))
	})))
}

type incidentOutput = httpapi.Output[IncidentResponse]

func incidentResult(inc *incident.Incident, err error) (*incidentOutput, error) {
	return httpapi.Reply(IncidentResponse{Incident: inc}, err)
}

func (in *listInput) filter() (incident.Filter, error) {
	var f incident.Filter
	var err error
	if f.Statuses, err = httpapi.SplitList("status", in.Status, incident.Status.Valid); err != nil {
		return f, err
	}
	if f.Categories, err = httpapi.SplitList("category", in.Category, incident.Category.Valid); err != nil {
		return f, err
	}
	if f.Severities, err = httpapi.SplitList("severity", in.Severity, incident.Severity.Valid); err != nil {
		return f, err
	}
	if f.From, f.To, err = httpapi.DateRange(in.FromDate, in.ToDate); err != nil {
		return f, err
	}
	f.Offset, f.Limit = in.Offset(), in.Limit
	return f, nil
}

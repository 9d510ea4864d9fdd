package client

// This file is compiled with the client oapi-codegen generates from the
// served document (check.sh): it fails to compile when the document stops
// typing the server's answers the way a Go caller needs them.

import (
	"context"
	"errors"
	"fmt"
)

// What may be null is a pointer, so a caller can tell none from empty.
var (
	_ *ResponderAssignment       = Incident{}.Responder
	_ *IncidentResolutionOutcome = Incident{}.ResolutionOutcome
	_ *AccessCode                = ValidationResult{}.AccessCode
	_ *AccessLog                 = ValidationResult{}.AccessLog
)

// Every answer the server gives is a field of the operation's response.
var (
	_ *CreateIncidentResponse  = ReportIncidentResponse{}.JSON201
	_ *CreateIncidentResponse  = ReportIncidentResponse{}.JSON200 // the idempotent replay
	_ *Error                   = ReportIncidentResponse{}.JSON415
	_ *Error                   = ReportIncidentResponse{}.JSON429
	_ *Error                   = GetIncidentResponse{}.JSON400 // an id over its maxLength
	_ *HeatmapResponse         = GetHeatmapResponse{}.JSON200
	_ *CurrentVisitorsResponse = GetCurrentVisitorsResponse{}.JSON200
)

// Webhook bodies have types of their own.
var _ Incident = WebhookIncidentAssignedJSONBody{}.Data.Incident

// reportIncident is how an integration reports an SOS and learns whether it
// was a replay.
func reportIncident(ctx context.Context, c *ClientWithResponses) (*Incident, bool, error) {
	r, err := c.ReportIncidentWithResponse(ctx, ReportIncidentJSONRequestBody{
		Category: CreateIncidentRequestCategorySos,
		Location: Location{Coordinates: []float64{3.3792, 6.5244}},
	})
	if err != nil {
		return nil, false, err
	}
	switch {
	case r.JSON201 != nil:
		return &r.JSON201.Incident, false, nil
	case r.JSON200 != nil:
		return &r.JSON200.Incident, true, nil
	case r.JSON429 != nil:
		return nil, false, fmt.Errorf("rate limited; retry after %s s", r.HTTPResponse.Header.Get("Retry-After"))
	}
	return nil, false, errors.New(string(r.Body))
}

var _ = reportIncident

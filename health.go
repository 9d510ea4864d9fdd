package sety

import (
	"context"
	"net/http"
	"reflect"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/internal/httpapi"
	"github.com/sety-io/sety/setyerr"
)

// Health is the body of the health check. When storage does not answer it
// is 503 and also carries the {code, message} of every error response.
type Health struct {
	Status     HealthStatus `json:"status" example:"ok" doc:"ok when the API and its storage answer; unavailable (with a 503) when storage does not."`
	APIVersion string       `json:"api_version" example:"v1" doc:"The API version."`
	Timestamp  clock.Time   `json:"timestamp" doc:"The server's time."`
	Code       int          `json:"code,omitempty" doc:"Only when unavailable: 503."`
	Message    string       `json:"message,omitempty" doc:"Only when unavailable: what failed."`
}

// HealthStatus is whether the API and its storage answer.
type HealthStatus string

// The health statuses.
const (
	Healthy     HealthStatus = "ok"
	Unavailable HealthStatus = "unavailable"
)

// Schema states the health statuses in the OpenAPI document.
func (HealthStatus) Schema(huma.Registry) *huma.Schema {
	return httpapi.EnumSchema([]HealthStatus{Healthy, Unavailable})
}

type healthOutput struct {
	Status     int
	RetryAfter string `header:"Retry-After" doc:"Only with 503: whole seconds to wait before asking again."`
	Body       Health
}

func registerHealth(api huma.API, s *Sety, path, id string) {
	huma.Register(api, huma.Operation{
		OperationID: id, Method: http.MethodGet, Path: path, Tags: []string{"Health"},
		Summary:     "Health check",
		Description: "Reports whether the API and its storage answer. Needs no API key.",
		Responses: map[string]*huma.Response{
			"503": {Description: "Storage does not answer: `status` is `unavailable`, with the `code` and `message` of an error.",
				Content: map[string]*huma.MediaType{"application/json": {
					Schema: api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[Health](), true, "")}}},
		},
		Metadata: httpapi.Meta{}.Example(http.StatusServiceUnavailable, map[string]any{
			"status": Unavailable, "code": http.StatusServiceUnavailable, "message": "storage unavailable",
		}),
	}, httpapi.Errors(s.log, func(ctx context.Context, _ *struct{}) (*healthOutput, error) {
		out := &healthOutput{Status: http.StatusOK, Body: Health{Status: Healthy, APIVersion: "v1", Timestamp: clock.At(clock.Stamp(s.now))}}
		if err := s.stores.Ping(ctx); err != nil {
			s.log.ErrorContext(ctx, "health check: storage unavailable", "error", err)
			out.Status = http.StatusServiceUnavailable
			out.Body.Status, out.Body.Code, out.Body.Message = Unavailable, http.StatusServiceUnavailable, "storage unavailable"
			out.RetryAfter = strconv.Itoa(setyerr.UnavailableRetryAfter)
		}
		return out, nil
	}))
	// The header field documents Retry-After on the success too; it goes
	// only with the 503, where the group's modifier documents it.
	delete(api.OpenAPI().Paths[path].Get.Responses["200"].Headers, httpapi.HeaderRetry)
}

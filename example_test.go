package sety_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/ids"
	"github.com/sety-io/sety/incident"
)

// Calling the services directly, without HTTP.
func ExampleNew() {
	clk := clock.NewFake(time.Date(2026, 3, 10, 14, 22, 5, 412e6, time.UTC))
	s, err := sety.New(memory.New(), sety.WithClock(clk.Now), sety.WithIDs(ids.Sequential()))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	org, _ := s.Auth.CreateOrganization(ctx, "Acme Rides", auth.Growth)
	tenant := auth.Tenant{OrgID: org.ID, Env: auth.Live}
	// One responder on duty, a kilometre north of the incident to come.
	if _, err := s.Incidents.UpsertResponder(ctx, tenant, "rsp_0000000000000007", incident.ResponderInput{
		Name: "Unit 7", Location: geo.NewPoint(6.4281+1000/111195.0, 3.4219),
	}); err != nil {
		panic(err)
	}

	// The create dispatches at once: the nearest responder is assigned.
	inc, _, err := s.Incidents.Create(ctx, tenant, incident.CreateIncidentRequest{
		Category:       incident.Vehicle,
		IdempotencyKey: "trip_7f3k92lq",
		Location:       incident.Location{Coordinates: geo.NewPoint(6.4281, 3.4219)},
	})
	if err != nil {
		panic(err)
	}
	clk.Advance(time.Minute)
	inc, _ = s.Incidents.Cancel(ctx, tenant, inc.ID, incident.CancelIncidentRequest{Reason: "rider is safe"})
	for _, e := range inc.Timeline {
		fmt.Println(e.Timestamp.Format(clock.Layout), e.Event, e.Message)
	}
	// Output:
	// 2026-03-10T14:22:05.412Z created Incident received
	// 2026-03-10T14:22:05.412Z dispatching Finding the nearest available responder
	// 2026-03-10T14:22:05.412Z assigned Unit 7 assigned, 1.0 km away, ETA 2m0s
	// 2026-03-10T14:23:05.412Z cancelled Incident cancelled: rider is safe
}

// Mounting the API on a huma API of your own.
func ExampleSety_Register() {
	s, _ := sety.New(memory.New())
	ctx := context.Background()
	org, _ := s.Auth.CreateOrganization(ctx, "Acme Rides", auth.Growth)
	_, key, _ := s.Auth.IssueKey(ctx, auth.Tenant{OrgID: org.ID, Env: auth.Test}, auth.KeySpec{Name: "docs", Scopes: []auth.Scope{auth.All}})

	mux := http.NewServeMux()
	api := humago.New(mux, huma.DefaultConfig("My API", "1.0.0"))
	s.Register(api)
	mux.Handle(s.BasePath()+"/", sety.RouteErrors(mux))

	req := httptest.NewRequest(http.MethodPost, "/v1/external/incidents",
		strings.NewReader(`{"category":"sos","location":{"coordinates":[3.3792,6.5244]}}`))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Println(rec.Code, strings.Contains(rec.Body.String(), `"is_drill":true`))

	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/external/incidents", nil))
	fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	// Output:
	// 201 true
	// 401 {"code":401,"message":"missing or invalid API key"}
}

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
	"github.com/sety-io/sety/outbox"
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
	if err := s.Register(api); err != nil {
		panic(err) // a clash with the API's own names: see WithNamePrefix
	}
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
	// 401 {"code":401,"message":"missing or invalid API key: send it as Authorization: Bearer <key>"}
}

// A notifier built after New: Subscribe needs no circular wiring. Each
// committed change is heard right after its commit, decoded with the
// domain's helper.
func ExampleSety_Subscribe() {
	s, _ := sety.New(memory.New(), sety.WithIDs(ids.Sequential()))
	ctx := context.Background()
	org, _ := s.Auth.CreateOrganization(ctx, "Acme Rides", auth.Growth)
	unsubscribe := s.Subscribe(sety.NotifyFunc(func(_ context.Context, events []outbox.Event) {
		for _, ev := range events {
			if inc, err := incident.EventPayload(ev); err == nil {
				fmt.Println(ev.Type, inc.ID, inc.Status, inc.Environment)
			}
		}
	}))
	defer unsubscribe()
	_, _, _ = s.Incidents.Create(ctx, auth.Tenant{OrgID: org.ID, Env: auth.Test}, incident.CreateIncidentRequest{
		Category: incident.SOS, Location: incident.Location{Coordinates: geo.NewPoint(3.3792, 6.5244)},
	})
	// Output:
	// incident.created inc_0000000000000002 created test
}

// A durable consumer with the host's own cursor: read the committed log
// after the cursor, handle the batch, store the cursor it returns.
func ExampleSety_Events() {
	s, _ := sety.New(memory.New(), sety.WithIDs(ids.Sequential()))
	ctx := context.Background()
	org, _ := s.Auth.CreateOrganization(ctx, "Acme Rides", auth.Growth)
	tenant := auth.Tenant{OrgID: org.ID, Env: auth.Test}
	req := incident.CreateIncidentRequest{Category: incident.Medical, Location: incident.Location{Coordinates: geo.NewPoint(3.3792, 6.5244)}}
	_, _, _ = s.Incidents.Create(ctx, tenant, req)

	var cursor int64 // the host keeps it in its own database
	read := func() {
		events, next, err := s.Events(ctx, cursor, outbox.Filter{OrgID: org.ID, TypePrefix: "incident."}, 100)
		if err != nil {
			panic(err)
		}
		for _, ev := range events {
			fmt.Println(ev.Position, ev.Type, ev.SubjectID)
		}
		cursor = next
	}
	read()
	_, _, _ = s.Incidents.Create(ctx, tenant, req)
	read() // only what is new since the cursor
	// Output:
	// 1 incident.created inc_0000000000000002
	// 2 incident.created inc_0000000000000004
}

// Follow hands the log to the host batch by batch, woken by this process's
// commits, until its context ends or Sety is closed.
func ExampleSety_Follow() {
	s, _ := sety.New(memory.New(), sety.WithIDs(ids.Sequential()))
	defer s.Close()
	ctx, stop := context.WithCancel(context.Background())
	org, _ := s.Auth.CreateOrganization(ctx, "Acme Rides", auth.Growth)
	_, _, _ = s.Incidents.Create(ctx, auth.Tenant{OrgID: org.ID, Env: auth.Test}, incident.CreateIncidentRequest{
		Category: incident.Vehicle, Location: incident.Location{Coordinates: geo.NewPoint(3.3792, 6.5244)},
	})
	err := s.Follow(ctx, 0, outbox.Filter{}, func(_ context.Context, events []outbox.Event, next int64) error {
		for _, ev := range events {
			fmt.Println(ev.Type, "cursor", next)
		}
		stop() // a real consumer stores next and keeps following
		return nil
	})
	fmt.Println(err)
	// Output:
	// incident.created cursor 1
	// <nil>
}

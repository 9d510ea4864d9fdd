// Command embed shows Sety mounted inside an existing Go service that has
// its own net/http mux, its own huma API and its own routes. Sety lives
// under /safety/v1/external; the host keeps its routes, its error format
// and its own /health.
//
//	go run ./examples/embed    # :8081, in memory
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/auth"
)

// Ride is the host service's own resource.
type Ride struct {
	ID     string `json:"ride_id"`
	Status string `json:"status"`
}

type rideInput struct {
	RideID string `path:"rideId"`
}

type rideOutput struct{ Body Ride }

// newService builds the host's mux: its own operations, then Sety's.
func newService(s *sety.Sety) (*http.ServeMux, huma.API) {
	mux := http.NewServeMux()
	api := humago.New(mux, huma.DefaultConfig("Acme Rides API", "2.3.0"))

	huma.Register(api, huma.Operation{
		OperationID: "get-ride", Method: http.MethodGet, Path: "/rides/{rideId}",
		Summary: "Get ride", Tags: []string{"Rides"},
	}, func(ctx context.Context, in *rideInput) (*rideOutput, error) {
		if in.RideID != "ride_1" {
			return nil, huma.Error404NotFound("no such ride")
		}
		return &rideOutput{Body: Ride{ID: in.RideID, Status: "in_progress"}}, nil
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "host ok") })

	s.Register(api)
	mux.Handle(s.BasePath()+"/", s.RouteErrors(mux)) // JSON 404/405 under Sety's prefix only
	return mux, api
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := sety.New(memory.New(),
		sety.WithBasePath("/safety/v1/external"),
		sety.WithHealthAlias(""), // the host has its own /health
		sety.WithLogger(slog.Default()),
	)
	if err != nil {
		log.Fatal(err)
	}
	key, err := testKey(ctx, s)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintln(os.Stdout, "test key:", key)
	// Dispatch, the sandbox simulator, SLA clocks and webhooks: without
	// this, a drill would stay "created".
	go func() {
		if err := s.Run(ctx); err != nil {
			log.Fatal(err)
		}
	}()
	mux, _ := newService(s)
	srv := &http.Server{Addr: ":8081", Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.Background())
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// testKey creates the host's organization and a sandbox key for it.
func testKey(ctx context.Context, s *sety.Sety) (string, error) {
	org, err := s.Auth.CreateOrganization(ctx, "Acme Rides", auth.Growth)
	if err != nil {
		return "", err
	}
	_, key, err := s.Auth.IssueKey(ctx, auth.Tenant{OrgID: org.ID, Env: auth.Test}, auth.KeySpec{Name: "embed demo", Scopes: []auth.Scope{auth.All}})
	return key, err
}

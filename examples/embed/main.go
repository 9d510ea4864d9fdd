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
// Register refuses, with an error naming the option that avoids it, any
// name or route the host already has.
func newService(s *sety.Sety) (*http.ServeMux, huma.API, error) {
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

	if err := s.Register(api); err != nil {
		return nil, nil, err
	}
	mux.Handle(s.BasePath()+"/", s.RouteErrors(mux)) // JSON 404/405 under Sety's prefix only
	return mux, api, nil
}

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

// run serves until SIGINT or SIGTERM, then shuts down in the one safe
// order: stop serving HTTP (no request is mid-way), Close Sety (its
// workers stop and are waited for), then close the store — never the store
// under running workers.
func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	store := memory.New() // or sqlite.Open / postgres.Open
	s, err := sety.New(store,
		sety.WithBasePath("/safety/v1/external"), // the health check is under it; the host keeps its own /health
		sety.WithLogger(slog.Default()),
	)
	if err != nil {
		return err
	}
	key, err := testKey(ctx, s)
	if err != nil {
		return errors.Join(err, s.Close(), store.Close())
	}
	fmt.Fprintln(os.Stdout, "test key:", key)
	mux, _, err := newService(s)
	if err != nil {
		return errors.Join(err, s.Close(), store.Close())
	}
	// Dispatch, the sandbox simulator, SLA clocks and webhooks: without
	// this, a drill would stay "created".
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx) }()
	srv := &http.Server{Addr: ":8081", Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	srv.RegisterOnShutdown(s.CloseStreams) // open event streams end as the shutdown begins
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.ListenAndServe() }()
	select {
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = srv.Shutdown(shutdown)
	case err = <-serveErr:
	case err = <-runErr:
	}
	return errors.Join(err, s.Close(), store.Close())
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

// Command host is a ride-hailing service, Acme Rides, that embeds Sety as
// a good guest. The service has its own huma API with names Sety also
// uses — a Location schema, a list-incidents operation (its support
// tickets), its own GET /health — and its own authentication: a session
// token in the X-Acme-Session header. It mounts Sety under /safety/v1 with
// sety.WithNamePrefix("Safety"), so Sety's schemas and operation ids
// cannot meet the host's, and sety.WithAuthenticator, so its sessions, not
// Sety API keys, authenticate Sety's operations. It shuts down in the one
// safe order: stop serving HTTP, Close Sety, close the store.
//
//	go run ./examples/host    # :8082, SQLite in a temporary directory
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/sqlite"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/setyerr"
)

// SessionHeader carries the host's own credential.
const SessionHeader = "X-Acme-Session"

// Location is the host's own type: a pickup point. Sety has a Location
// too (incident.Location); with the name prefix Sety's is SafetyLocation.
type Location struct {
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
}

// Trip is the host's resource.
type Trip struct {
	ID     string   `json:"trip_id"`
	Pickup Location `json:"pickup"`
}

// SupportTicket is what the host calls an incident: a rider's complaint.
type SupportTicket struct {
	ID      string `json:"ticket_id"`
	Subject string `json:"subject"`
}

// Account is who a session belongs to in the host, and what it may do in
// Sety: the Sety organization of the host's tenant, and scopes.
type Account struct {
	Name   string
	OrgID  string // the Sety organization (Auth.CreateOrganization)
	Env    auth.Environment
	Scopes []auth.Scope
}

// Sessions are the host's signed-in sessions.
type Sessions struct {
	mu       sync.RWMutex
	accounts map[string]Account
}

// NewSessions returns an empty session store.
func NewSessions() *Sessions { return &Sessions{accounts: map[string]Account{}} }

// Add signs acct in with token.
func (s *Sessions) Add(token string, acct Account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accounts[token] = acct
}

// Authenticate is the host's mapping of its own request to a Sety
// principal: its session, the Sety organization of the account's tenant,
// the account's scopes and the host's plan with Sety.
func (s *Sessions) Authenticate(r *http.Request) (*auth.Principal, error) {
	token := r.Header.Get(SessionHeader)
	if token == "" {
		return nil, fmt.Errorf("send your Acme session in the %s header", SessionHeader)
	}
	s.mu.RLock()
	acct, ok := s.accounts[token]
	s.mu.RUnlock()
	if !ok {
		return nil, errors.New("the Acme session has ended: sign in again")
	}
	if len(acct.Scopes) == 0 {
		return nil, setyerr.E(setyerr.Forbidden, "%s may not use the safety API", acct.Name)
	}
	return &auth.Principal{Tenant: auth.Tenant{OrgID: acct.OrgID, Env: acct.Env}, Scopes: acct.Scopes, Plan: auth.Growth}, nil
}

// SetyOptions mount Sety as this host does: under /safety/v1, its names
// prefixed, the host's sessions authenticating.
func SetyOptions(sessions *Sessions, log *slog.Logger) []sety.Option {
	return []sety.Option{
		sety.WithBasePath("/safety/v1"),
		sety.WithNamePrefix("Safety"),
		sety.WithAuthenticator(sessions.Authenticate, "acmeSession"),
		sety.WithLogger(log),
	}
}

// NewHostAPI builds the host's own API, without Sety: its security scheme,
// its operations and its /health.
func NewHostAPI() (*http.ServeMux, huma.API) {
	mux := http.NewServeMux()
	api := humago.New(mux, huma.DefaultConfig("Acme Rides API", "2.3.0"))
	api.OpenAPI().Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"acmeSession": {Type: "apiKey", In: "header", Name: SessionHeader, Description: "An Acme Rides session token."},
	}
	huma.Register(api, huma.Operation{
		OperationID: "get-trip", Method: http.MethodGet, Path: "/trips/{tripId}", Summary: "Get a trip", Tags: []string{"Trips"},
	}, func(_ context.Context, in *struct {
		TripID string `path:"tripId"`
	}) (*struct{ Body Trip }, error) {
		return &struct{ Body Trip }{Trip{ID: in.TripID, Pickup: Location{Lat: 6.4281, Lng: 3.4219}}}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "list-incidents", Method: http.MethodGet, Path: "/support/incidents", Summary: "List support tickets", Tags: []string{"Support"},
	}, func(context.Context, *struct{}) (*struct{ Body []SupportTicket }, error) {
		return &struct{ Body []SupportTicket }{[]SupportTicket{{ID: "tkt_1", Subject: "Driver took a longer route"}}}, nil
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "acme ok") })
	return mux, api
}

// NewService is the host's whole HTTP handler: its API, then Sety in it.
func NewService(s *sety.Sety) (*http.ServeMux, huma.API, error) {
	mux, api := NewHostAPI()
	if err := s.Register(api); err != nil {
		return nil, nil, err
	}
	mux.Handle(s.BasePath()+"/", s.RouteErrors(mux)) // JSON 404/405 under Sety's prefix only
	return mux, api, nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "host:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	dir, err := os.MkdirTemp("", "acme-host-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(ctx, filepath.Join(dir, "sety.db"), nil)
	if err != nil {
		return err
	}
	sessions := NewSessions()
	s, err := sety.New(db, SetyOptions(sessions, log)...)
	if err != nil {
		return errors.Join(err, db.Close())
	}
	err = serve(ctx, s, sessions)
	// The safe order: serve has stopped the HTTP server (no request is
	// mid-way), then Sety's workers stop, then the store closes.
	return errors.Join(err, s.Close(), db.Close())
}

// serve runs Sety's workers and the HTTP server until ctx ends, then stops
// the server gracefully.
func serve(ctx context.Context, s *sety.Sety, sessions *Sessions) error {
	org, err := s.Auth.CreateOrganization(ctx, "Acme Rides", auth.Growth)
	if err != nil {
		return err
	}
	sessions.Add("demo-dispatcher", Account{Name: "Demo dispatcher", OrgID: org.ID, Env: auth.Test, Scopes: []auth.Scope{auth.All}})
	mux, _, err := NewService(s)
	if err != nil {
		return err
	}
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx) }()
	srv := &http.Server{Addr: "127.0.0.1:8082", Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	srv.RegisterOnShutdown(s.CloseStreams) // open event streams end as the shutdown begins
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.ListenAndServe() }()
	fmt.Printf("Acme Rides on http://%s; Sety under /safety/v1 with %s: demo-dispatcher\n", srv.Addr, SessionHeader)
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		return err
	case err := <-runErr:
		if err != nil {
			return err
		}
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

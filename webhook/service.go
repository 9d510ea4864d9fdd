package webhook

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/ids"
	"github.com/sety-io/sety/internal/validate"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
)

// Config holds a Service's settings; zero fields get defaults.
type Config struct {
	Now    clock.Func
	NewID  ids.Generator
	Logger *slog.Logger
	// AllowPrivate lets endpoints target loopback, private and link-local
	// addresses: for local development only.
	AllowPrivate bool
	// AllowInsecure lets endpoints use http:// URLs. Default: https only.
	AllowInsecure bool
	// Transport replaces the guarded HTTP transport (tests use a fake one).
	Transport http.RoundTripper
	// Timeout bounds one attempt. Default 10 s, the contract's.
	Timeout time.Duration
	// Lease is how long a worker owns the deliveries it claimed. Default 1 min.
	Lease time.Duration
	// Concurrency is how many deliveries one worker attempts at once. Default 8.
	Concurrency int
	// PollEvery is how often the worker looks for work nobody woke it for
	// (events another process committed, retries coming due). Default 1 s.
	PollEvery time.Duration
}

// RotationOverlap is how long a rotated-out secret keeps signing.
const RotationOverlap = 24 * time.Hour

// Service manages a tenant's endpoints and runs the delivery worker.
type Service struct {
	store  Store // endpoints and the delivery log: requests
	queue  Queue // fan-out and leased deliveries: the worker
	cfg    Config
	now    clock.Func
	newID  ids.Generator
	log    *slog.Logger
	owner  string // this worker's lease owner id
	wake   chan struct{}
	client *retryablehttp.Client
}

// NewService returns a Service whose requests use store and whose delivery
// worker uses queue; an adapter provides both over one database.
func NewService(store Store, queue Queue, cfg Config) *Service {
	s := &Service{store: store, queue: queue, cfg: cfg, now: cfg.Now, newID: cfg.NewID, log: cfg.Logger, wake: make(chan struct{}, 1)}
	if s.now == nil {
		s.now = clock.System
	}
	if s.newID == nil {
		s.newID = ids.New
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.cfg.Timeout <= 0 {
		s.cfg.Timeout = 10 * time.Second
	}
	if s.cfg.Lease <= 0 {
		s.cfg.Lease = time.Minute
	}
	if s.cfg.Concurrency <= 0 {
		s.cfg.Concurrency = 8
	}
	if s.cfg.PollEvery <= 0 {
		s.cfg.PollEvery = time.Second
	}
	s.owner = ids.New("wkr") // unique per process, even when tests inject ids
	transport := cfg.Transport
	if transport == nil {
		transport = guardedTransport(cfg.AllowPrivate)
	}
	s.client = &retryablehttp.Client{
		HTTPClient: &http.Client{Transport: transport, Timeout: s.cfg.Timeout, CheckRedirect: noRedirects},
		Logger:     redactedLogger{s.log}, // never retryablehttp's default, which writes to stderr
		// One request per attempt: the retry schedule is ours, persisted in
		// the store, so a restart resumes it and a receiver never gets two
		// requests for one attempt.
		RetryMax:     0,
		CheckRetry:   retryablehttp.DefaultRetryPolicy,
		Backoff:      retryablehttp.DefaultBackoff,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	return s
}

// noRedirects makes a 3xx the answer: a redirect is a failure, and following
// it could lead the request to an address the guard never saw.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// CreateEndpointRequest registers an endpoint.
type CreateEndpointRequest struct {
	URL         string   `json:"url" maxLength:"2048" example:"https://example.com/hooks/sety" doc:"https URL that receives the events."`
	Events      []string `json:"events" minItems:"1" maxItems:"50" example:"[\"incident.*\",\"access.checked_in\"]" doc:"Event types, or incident.* / * wildcards."`
	Description string   `json:"description,omitempty" maxLength:"500" example:"Ops dashboard" doc:"Your note about the endpoint."`
}

// UpdateEndpointRequest changes an endpoint; absent fields stay as they are.
type UpdateEndpointRequest struct {
	URL         *string  `json:"url,omitempty" maxLength:"2048" example:"https://example.com/hooks/sety" doc:"A new https URL."`
	Events      []string `json:"events,omitempty" maxItems:"50" example:"[\"incident.*\"]" doc:"New event types, or incident.* / * wildcards; replaces the list."`
	Description *string  `json:"description,omitempty" maxLength:"500" example:"Ops dashboard" doc:"A new note about the endpoint."`
	Status      *string  `json:"status,omitempty" enum:"enabled,disabled" example:"enabled" doc:"Re-enabling clears disabled_reason and the failure clock."`
}

// CreateEndpoint registers an endpoint and returns it with its secret,
// which is shown this once.
func (s *Service) CreateEndpoint(ctx context.Context, tenant auth.Tenant, req CreateEndpointRequest) (*Endpoint, string, error) {
	u, err := checkURL(req.URL, s.cfg.AllowInsecure, s.cfg.AllowPrivate)
	if err != nil {
		return nil, "", err
	}
	events, err := checkEvents(req.Events)
	if err != nil {
		return nil, "", err
	}
	desc, err := description(req.Description)
	if err != nil {
		return nil, "", err
	}
	now := clock.At(clock.Stamp(s.now))
	e := &Endpoint{
		ID: s.newID("we"), URL: u, Description: desc, Events: events, Status: Enabled,
		CreatedAt: now, UpdatedAt: now, OrgID: tenant.OrgID, Environment: tenant.Env, Secret: NewSecret(),
	}
	if err := s.store.CreateEndpoint(ctx, e); err != nil {
		return nil, "", err
	}
	return e, e.Secret, nil
}

func description(d string) (*string, error) {
	d = strings.TrimSpace(d)
	if err := validate.Text("description", d, 500); err != nil {
		return nil, err
	}
	if d == "" {
		return nil, nil
	}
	return &d, nil
}

var errEndpointNotFound = setyerr.E(setyerr.NotFound, "Webhook endpoint not found")

// ErrEndpointNotFound is what stores return for an endpoint the tenant cannot see.
var ErrEndpointNotFound = errEndpointNotFound

// Endpoint returns the tenant's endpoint id.
func (s *Service) Endpoint(ctx context.Context, tenant auth.Tenant, id string) (*Endpoint, error) {
	if !ids.Valid("we", id) {
		return nil, errEndpointNotFound
	}
	return s.store.GetEndpoint(ctx, tenant, id)
}

// Endpoints returns a page of the tenant's endpoints.
func (s *Service) Endpoints(ctx context.Context, tenant auth.Tenant, offset, limit int) ([]*Endpoint, int, error) {
	return s.store.ListEndpoints(ctx, tenant, offset, limit)
}

// UpdateEndpoint changes the URL, events, description or status.
func (s *Service) UpdateEndpoint(ctx context.Context, tenant auth.Tenant, id string, req UpdateEndpointRequest) (*Endpoint, error) {
	if !ids.Valid("we", id) {
		return nil, errEndpointNotFound
	}
	var u string
	var events []string
	var desc *string
	var err error
	if req.URL != nil {
		if u, err = checkURL(*req.URL, s.cfg.AllowInsecure, s.cfg.AllowPrivate); err != nil {
			return nil, err
		}
	}
	if req.Events != nil {
		if events, err = checkEvents(req.Events); err != nil {
			return nil, err
		}
	}
	if req.Description != nil {
		if desc, err = description(*req.Description); err != nil {
			return nil, err
		}
	}
	if req.Status != nil && *req.Status != Enabled && *req.Status != Disabled {
		return nil, setyerr.Invalidf("status", "must be enabled or disabled")
	}
	now := clock.Stamp(s.now)
	return s.store.UpdateEndpoint(ctx, tenant, id, func(e *Endpoint) error {
		if req.URL != nil {
			e.URL = u
		}
		if events != nil {
			e.Events = events
		}
		if req.Description != nil {
			e.Description = desc
		}
		if req.Status != nil && *req.Status != e.Status {
			e.Status, e.DisabledReason, e.FailingSince = *req.Status, nil, time.Time{}
		}
		e.UpdatedAt = clock.At(now)
		return nil
	})
}

// DeleteEndpoint removes an endpoint and its deliveries.
func (s *Service) DeleteEndpoint(ctx context.Context, tenant auth.Tenant, id string) error {
	if !ids.Valid("we", id) {
		return errEndpointNotFound
	}
	return s.store.DeleteEndpoint(ctx, tenant, id)
}

// RotateSecret gives an endpoint a new secret and returns it; the old one
// keeps signing alongside for RotationOverlap.
func (s *Service) RotateSecret(ctx context.Context, tenant auth.Tenant, id string) (*Endpoint, string, error) {
	if !ids.Valid("we", id) {
		return nil, "", errEndpointNotFound
	}
	now := clock.Stamp(s.now)
	secret := NewSecret()
	e, err := s.store.UpdateEndpoint(ctx, tenant, id, func(e *Endpoint) error {
		e.PreviousSecret, e.PreviousExpiresAt = e.Secret, now.Add(RotationOverlap)
		e.Secret, e.UpdatedAt = secret, clock.At(now)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return e, secret, nil
}

// Ping queues a ping event to one endpoint, whatever its event filter, and
// returns its delivery; the worker sends it at once.
func (s *Service) Ping(ctx context.Context, tenant auth.Tenant, id string) (*Delivery, error) {
	e, err := s.Endpoint(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	now := clock.Stamp(s.now)
	data, _ := json.Marshal(map[string]any{"endpoint_id": e.ID, "message": "Sety webhook test"})
	evID := s.newID("evt")
	ev := outbox.Event{ID: evID, OrgID: tenant.OrgID, Environment: string(tenant.Env), Type: "ping",
		SubjectID: evID, Sequence: 1, Data: data, CreatedAt: now} // each ping is its own subject
	d := s.newDelivery(e, ev, now)
	if err := s.store.AddDelivery(ctx, ev, d); err != nil {
		return nil, err
	}
	s.Wake()
	return d, nil
}

// Deliveries returns a page of an endpoint's deliveries, newest first.
func (s *Service) Deliveries(ctx context.Context, tenant auth.Tenant, endpointID, status string, offset, limit int) ([]*Delivery, int, error) {
	if _, err := s.Endpoint(ctx, tenant, endpointID); err != nil {
		return nil, 0, err
	}
	if status != "" && status != Pending && status != Succeeded && status != Failed {
		return nil, 0, setyerr.Invalidf("status", "must be pending, succeeded or failed")
	}
	return s.store.ListDeliveries(ctx, tenant, endpointID, status, offset, limit)
}

// Redeliver queues the event of a delivery again, as a new delivery with a
// fresh retry schedule; receivers see the same webhook-id.
func (s *Service) Redeliver(ctx context.Context, tenant auth.Tenant, endpointID, deliveryID string) (*Delivery, error) {
	if !ids.Valid("we", endpointID) || !ids.Valid("whd", deliveryID) {
		return nil, setyerr.E(setyerr.NotFound, "Webhook delivery not found")
	}
	old, err := s.store.GetDelivery(ctx, tenant, endpointID, deliveryID)
	if err != nil {
		return nil, err
	}
	now := clock.Stamp(s.now)
	d := &Delivery{
		ID: s.newID("whd"), EndpointID: old.EndpointID, EventID: old.EventID, EventType: old.EventType,
		Status: Pending, NextAttemptAt: clock.At(now), CreatedAt: clock.At(now), OrgID: old.OrgID, Environment: old.Environment,
	}
	if err := s.store.InsertDelivery(ctx, d); err != nil {
		return nil, err
	}
	s.Wake()
	return d, nil
}

func (s *Service) newDelivery(e *Endpoint, ev outbox.Event, now time.Time) *Delivery {
	return &Delivery{
		ID: s.newID("whd"), EndpointID: e.ID, EventID: ev.ID, EventType: ev.Type, Status: Pending,
		NextAttemptAt: clock.At(now), CreatedAt: clock.At(now), OrgID: e.OrgID, Environment: e.Environment,
	}
}

// Notify wakes the worker: events were committed. It makes Service an
// outbox.Notifier.
func (s *Service) Notify(context.Context, []outbox.Event) { s.Wake() }

// Wake asks a running worker to look for work now.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

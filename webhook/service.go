package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/ids"
	"github.com/sety-io/sety/internal/defaults"
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
	// PrivateHint, if set, is added to the message that refuses an
	// http:// URL or a private target, saying how the server's operator
	// allows them; the example server names its -allow-private-webhooks
	// flag there when it runs with the flag off.
	PrivateHint string
	// Transport replaces the guarded HTTP transport (tests use a fake one).
	Transport http.RoundTripper
	// Timeout bounds one attempt. Default 10 s, the contract's.
	Timeout time.Duration
	// Lease is how long a worker owns the deliveries it claimed. Default 1
	// min; at least twice Timeout.
	Lease time.Duration
	// Concurrency is how many deliveries one worker attempts at once.
	// Default 32.
	Concurrency int
	// PerEndpoint is how many attempts one endpoint gets at once, across
	// every worker and process on the store. Default 4.
	PerEndpoint int
	// PerTenant is how many attempts one tenant's endpoints get at once
	// together, across every worker and process. Default 16.
	PerTenant int
	// Breaker pauses an endpoint that keeps failing.
	Breaker Breaker
	// ResumeWindow is how far back re-enabling an endpoint sends the
	// deliveries skipped while it was disabled. Default 72 h.
	ResumeWindow time.Duration
	// SecretKeys encrypt endpoint secrets at rest (AES-256-GCM), each at
	// least 32 bytes: the first seals, every one opens, so a key is rotated
	// by listing the new one first and the old one after it until
	// ReencryptSecrets has run. Keep them outside the database. None: a
	// random key kept in the store, where a thief of the database finds it
	// too.
	SecretKeys [][]byte
	// RetrySchedule is how long a delivery waits after each failed attempt;
	// it fails for good when the attempt after the last wait fails.
	// Default: DefaultRetrySchedule, the contract's.
	RetrySchedule []time.Duration
	// PollEvery is how often the worker looks for work nobody woke it for
	// (events another process committed, retries coming due). Default 1 s.
	PollEvery time.Duration
	// Retention is how long finished deliveries and the published events
	// they carried are kept: the worker deletes succeeded and failed
	// deliveries created longer ago, skipped ones too once they are also
	// past ResumeWindow, and then the published events no delivery refers
	// to any more. Default 30 days; negative: keep everything.
	Retention time.Duration
	// PurgeEvery is how often the worker purges what Retention no longer
	// keeps (and once when it starts). Default 10 min.
	PurgeEvery time.Duration
	// OnPurge hears how many rows each purge batch deleted, by kind
	// ("deliveries" or "events"), for metrics.
	OnPurge func(kind string, n int)
	// OnAttempt hears every recorded attempt, for metrics: its outcome
	// ("succeeded", "retrying" or "failed") and how long the endpoint took.
	OnAttempt func(outcome string, took time.Duration)
}

// Breaker is the rule that pauses a failing endpoint, so its attempts stop
// taking workers' time: after After attempts failed in a row, each further
// failure pauses the endpoint for Pause, doubled for every failure beyond
// After, at most MaxPause. A paused endpoint's deliveries are not claimed;
// when the pause ends one attempt at a time goes out (a probe) until one
// succeeds, which closes the breaker. The state is stored on the endpoint,
// so every worker honours it. A pause only delays attempts: it neither
// counts as one nor moves the retry schedule.
type Breaker struct {
	After    int           // default 5
	Pause    time.Duration // default 10 s
	MaxPause time.Duration // default 10 min
}

// pause is how long the endpoint pauses after its failures-th failure in a
// row (zero: not yet).
func (b Breaker) pause(failures int) time.Duration {
	if failures < b.After {
		return 0
	}
	d := b.Pause
	for range failures - b.After {
		if d >= b.MaxPause {
			break
		}
		d *= 2
	}
	return min(d, b.MaxPause)
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
	keys   *keyring
	// after is time.After; tests replace it to decide when Run's wait
	// between fan-outs (fanOutGap) ends.
	after func(time.Duration) <-chan time.Time
	lead  lead // the fan-out's lease, when the queue has one (lead.go)
}

// NewService returns a Service whose requests use store and whose delivery
// worker uses queue; an adapter provides both over one database.
func NewService(store Store, queue Queue, cfg Config) *Service {
	if len(cfg.RetrySchedule) == 0 {
		cfg.RetrySchedule = DefaultRetrySchedule()
	}
	s := &Service{store: store, queue: queue, cfg: cfg, now: defaults.Clock(cfg.Now), newID: defaults.IDs(cfg.NewID), log: defaults.Logger(cfg.Logger),
		wake: make(chan struct{}, 1)}
	if s.cfg.Timeout <= 0 {
		s.cfg.Timeout = 10 * time.Second
	}
	if s.cfg.Lease <= 0 {
		s.cfg.Lease = time.Minute
	}
	s.cfg.Lease = max(s.cfg.Lease, 2*s.cfg.Timeout)
	if s.cfg.Concurrency <= 0 {
		s.cfg.Concurrency = 32
	}
	if s.cfg.PerEndpoint <= 0 {
		s.cfg.PerEndpoint = 4
	}
	if s.cfg.PerTenant <= 0 {
		s.cfg.PerTenant = 16
	}
	if s.cfg.Breaker.After <= 0 {
		s.cfg.Breaker.After = 5
	}
	if s.cfg.Breaker.Pause <= 0 {
		s.cfg.Breaker.Pause = 10 * time.Second
	}
	if s.cfg.Breaker.MaxPause <= 0 {
		s.cfg.Breaker.MaxPause = 10 * time.Minute
	}
	s.cfg.Breaker.MaxPause = max(s.cfg.Breaker.MaxPause, s.cfg.Breaker.Pause)
	if s.cfg.ResumeWindow <= 0 {
		s.cfg.ResumeWindow = 72 * time.Hour
	}
	if s.cfg.Retention == 0 {
		s.cfg.Retention = DefaultRetention
	}
	if s.cfg.PurgeEvery <= 0 {
		s.cfg.PurgeEvery = 10 * time.Minute
	}
	if s.cfg.PollEvery <= 0 {
		s.cfg.PollEvery = time.Second
	}
	s.keys = newKeyring(store, cfg.SecretKeys)
	s.owner = ids.New("wkr") // unique per process, even when tests inject ids
	s.lead.q, _ = queue.(FanOutLeaser)
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
	Status      *string  `json:"status,omitempty" enum:"enabled,disabled" example:"enabled" doc:"Re-enabling clears disabled_reason and the failure clock, and sends the deliveries skipped while disabled in the last 72 hours."`
}

// CreateEndpoint registers an endpoint and returns it with its secret,
// which is shown this once.
func (s *Service) CreateEndpoint(ctx context.Context, tenant auth.Tenant, req CreateEndpointRequest) (*Endpoint, string, error) {
	if err := tenant.Validate(); err != nil {
		return nil, "", err
	}
	u, err := checkURL(req.URL, s.cfg)
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
	if err := s.keys.load(ctx); err != nil {
		return nil, "", err
	}
	now := clock.At(clock.Stamp(s.now))
	e := &Endpoint{
		ID: s.newID("we"), URL: u, Description: desc, Events: events, Status: Enabled,
		CreatedAt: now, UpdatedAt: now, OrgID: tenant.OrgID, Environment: tenant.Env,
	}
	secret := NewSecret()
	if e.Secret, err = s.keys.seal(e.ID, secret); err != nil {
		return nil, "", err
	}
	if err := s.store.CreateEndpoint(ctx, e); err != nil {
		return nil, "", err
	}
	return e, secret, nil
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

// ErrDeliveryNotFound is what stores return for a delivery the tenant
// cannot see.
var ErrDeliveryNotFound = setyerr.E(setyerr.NotFound, "Webhook delivery not found")

// Endpoint returns the tenant's endpoint id, with its pending deliveries.
func (s *Service) Endpoint(ctx context.Context, tenant auth.Tenant, id string) (*Endpoint, error) {
	if err := tenant.Validate(); err != nil {
		return nil, err
	}
	return withPending(ctx, s, tenant)(s.endpoint(ctx, tenant, id))
}

// endpoint returns the tenant's endpoint id as stored (PendingDeliveries
// left at 0), for operations that only need it to exist.
func (s *Service) endpoint(ctx context.Context, tenant auth.Tenant, id string) (*Endpoint, error) {
	if !ids.Valid("we", id) {
		return nil, errEndpointNotFound
	}
	return s.store.GetEndpoint(ctx, tenant, id)
}

// Endpoints returns a page of the tenant's endpoints, with their pending
// deliveries.
func (s *Service) Endpoints(ctx context.Context, tenant auth.Tenant, offset, limit int) ([]*Endpoint, int, error) {
	if err := tenant.Validate(); err != nil {
		return nil, 0, err
	}
	page, total, err := s.store.ListEndpoints(ctx, tenant, offset, limit)
	if err == nil {
		err = s.countPending(ctx, tenant, page...)
	}
	if err != nil {
		return nil, 0, err
	}
	return page, total, nil
}

// countPending sets the PendingDeliveries of the tenant's endpoints from
// the store, in one read.
func (s *Service) countPending(ctx context.Context, tenant auth.Tenant, endpoints ...*Endpoint) error {
	if len(endpoints) == 0 {
		return nil
	}
	ids := make([]string, len(endpoints))
	for i, e := range endpoints {
		ids[i] = e.ID
	}
	counts, err := s.store.PendingCounts(ctx, tenant, ids)
	if err != nil {
		return err
	}
	for _, e := range endpoints {
		e.PendingDeliveries = counts[e.ID]
	}
	return nil
}

// withPending returns a function that passes an endpoint and its error on,
// the endpoint with its pending deliveries counted: it wraps a store call
// that answers with one endpoint.
func withPending(ctx context.Context, s *Service, tenant auth.Tenant) func(*Endpoint, error) (*Endpoint, error) {
	return func(e *Endpoint, err error) (*Endpoint, error) {
		if err == nil {
			err = s.countPending(ctx, tenant, e)
		}
		if err != nil {
			return nil, err
		}
		return e, nil
	}
}

// UpdateEndpoint changes the URL, events, description or status.
func (s *Service) UpdateEndpoint(ctx context.Context, tenant auth.Tenant, id string, req UpdateEndpointRequest) (*Endpoint, error) {
	if err := tenant.Validate(); err != nil {
		return nil, err
	}
	if !ids.Valid("we", id) {
		return nil, errEndpointNotFound
	}
	var u string
	var events []string
	var desc *string
	var err error
	if req.URL != nil {
		if u, err = checkURL(*req.URL, s.cfg); err != nil {
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
	if err := s.keys.load(ctx); err != nil {
		return nil, err
	}
	now := clock.Stamp(s.now)
	change := func(e *Endpoint) error {
		// Every write seals the secrets with the current key; one that
		// cannot be opened is left for rotate-secret to replace.
		_, _ = s.keys.reseal(e)
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
			e.Failures, e.PausedUntil = 0, time.Time{}
		}
		e.UpdatedAt = clock.At(now)
		return nil
	}
	if req.Status == nil || *req.Status != Enabled {
		return withPending(ctx, s, tenant)(s.store.UpdateEndpoint(ctx, tenant, id, change))
	}
	// Enabling sends what was skipped while disabled, within the window.
	e, err := s.store.ResumeEndpoint(ctx, tenant, id, now.Add(-s.cfg.ResumeWindow), now, change)
	if err == nil {
		s.Wake()
	}
	return withPending(ctx, s, tenant)(e, err)
}

// DeleteEndpoint removes an endpoint and its deliveries.
func (s *Service) DeleteEndpoint(ctx context.Context, tenant auth.Tenant, id string) error {
	if err := tenant.Validate(); err != nil {
		return err
	}
	if !ids.Valid("we", id) {
		return errEndpointNotFound
	}
	return s.store.DeleteEndpoint(ctx, tenant, id)
}

// RotateSecret gives an endpoint a new secret and returns it; the old one
// keeps signing alongside for RotationOverlap.
func (s *Service) RotateSecret(ctx context.Context, tenant auth.Tenant, id string) (*Endpoint, string, error) {
	if err := tenant.Validate(); err != nil {
		return nil, "", err
	}
	if !ids.Valid("we", id) {
		return nil, "", errEndpointNotFound
	}
	if err := s.keys.load(ctx); err != nil {
		return nil, "", err
	}
	// The backlog is read before the rotation, not after: a failure once
	// it is stored would lose the new secret, shown only in this answer.
	pending, err := s.store.PendingCounts(ctx, tenant, []string{id})
	if err != nil {
		return nil, "", err
	}
	now := clock.Stamp(s.now)
	secret := NewSecret()
	e, err := s.store.UpdateEndpoint(ctx, tenant, id, func(e *Endpoint) error {
		sealed, err := s.keys.seal(e.ID, secret)
		if err != nil {
			return err
		}
		e.PreviousSecret, e.PreviousExpiresAt = e.Secret, now.Add(RotationOverlap)
		e.Secret, e.UpdatedAt = sealed, clock.At(now)
		if _, err := s.keys.reseal(e); err != nil {
			// The old secret cannot be opened (its key is gone): it could
			// not sign anyway. The new one replaces it at once.
			s.log.WarnContext(ctx, "webhook secret rotated without overlap", "endpoint_id", e.ID, "error", err)
			e.PreviousSecret, e.PreviousExpiresAt = "", time.Time{}
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	e.PendingDeliveries = pending[id]
	return e, secret, nil
}

// ReencryptSecrets seals every endpoint's secrets, of every tenant, with
// the first of Config.SecretKeys (or the store's key), and returns how
// many endpoints it changed: those sealed with another key, and those an
// earlier version stored in clear. Run calls it when it starts; after a
// key rotation, once it has run, the old key can be dropped. An endpoint
// whose secret no configured key opens is left as it is, and reported in
// the error.
func (s *Service) ReencryptSecrets(ctx context.Context) (int, error) {
	if err := s.keys.load(ctx); err != nil {
		return 0, err
	}
	changed := 0
	var errs []error
	for after := ""; ; {
		last, err := s.queue.UpdateEndpoints(ctx, after, batch, func(e *Endpoint) (bool, error) {
			ok, err := s.keys.reseal(e)
			if err != nil {
				errs = append(errs, err)
				return false, nil
			}
			if ok {
				changed++
			}
			return ok, nil
		})
		if err != nil {
			return changed, errors.Join(append(errs, err)...)
		}
		if last == "" {
			return changed, errors.Join(errs...)
		}
		after = last
	}
}

// Ping queues a ping event to one endpoint, whatever its event filter, and
// returns its delivery; the worker sends it at once.
func (s *Service) Ping(ctx context.Context, tenant auth.Tenant, id string) (*Delivery, error) {
	if err := tenant.Validate(); err != nil {
		return nil, err
	}
	e, err := s.endpoint(ctx, tenant, id)
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
	if err := tenant.Validate(); err != nil {
		return nil, 0, err
	}
	if _, err := s.endpoint(ctx, tenant, endpointID); err != nil {
		return nil, 0, err
	}
	if status != "" && status != Pending && status != Succeeded && status != Failed && status != Skipped {
		return nil, 0, setyerr.Invalidf("status", "must be pending, succeeded, failed or skipped")
	}
	return s.store.ListDeliveries(ctx, tenant, endpointID, status, offset, limit)
}

// Redeliver queues the event of a delivery again, as a new delivery with a
// fresh retry schedule; receivers see the same webhook-id.
func (s *Service) Redeliver(ctx context.Context, tenant auth.Tenant, endpointID, deliveryID string) (*Delivery, error) {
	if err := tenant.Validate(); err != nil {
		return nil, err
	}
	if !ids.Valid("we", endpointID) || !ids.Valid("whd", deliveryID) {
		return nil, ErrDeliveryNotFound
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

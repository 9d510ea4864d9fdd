package sety

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sety-io/sety/access"
	telemetry "github.com/sety-io/sety/adapters/prometheus"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/ids"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/httpapi"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/ports"
	"github.com/sety-io/sety/stream"
	"github.com/sety-io/sety/threat"
	"github.com/sety-io/sety/webhook"
)

// Stores is what an adapter provides: every domain's ports over one
// database. It is declared in the ports package, with the capabilities an
// adapter may add; this name stays so a host writes sety.Stores.
type Stores = ports.Stores

// DefaultBasePath is where the Sety v1 API lives.
const DefaultBasePath = "/v1/external"

// Sety is the library's entry point: the domain services over one set of
// stores, and the HTTP operations that expose them.
type Sety struct {
	Incidents *incident.Service
	Auth      *auth.Service
	Webhooks  *webhook.Service
	Access    *access.Service
	Threat    *threat.Engine

	stores      Stores
	threat      *threatFollower
	hub         *stream.Hub
	metrics     *telemetry.Metrics
	console     bool
	ready       chan struct{}
	now         clock.Func
	log         *slog.Logger
	basePath    string
	healthAlias string
	guest       guestConfig
	subscribers *subscribers
	life        *lifecycle
}

type config struct {
	now           clock.Func
	newID         ids.Generator
	log           *slog.Logger
	basePath      string
	healthAlias   string
	notifier      outbox.Notifier
	dispatcher    incident.Dispatcher
	dispatchRange incident.DispatchRange
	sla           incident.SLAPolicy
	simulation    incident.Simulation
	console       bool
	webhooks      webhook.Config
	webhookOpts   []func(*webhook.Config) // options that set one field, whatever the order
	codeKey       []byte
	lockout       access.Lockout
	limiter       auth.RateLimiter
	limiterSet    bool
	metrics       prometheus.Registerer
	keyCacheTTL   time.Duration
	sessionTTL    time.Duration
	sessionKeep   time.Duration
	limits        map[auth.Plan]int
	guest         guestConfig
	stream        stream.Config
}

// Option configures New.
type Option func(*config)

// WithClock makes every service read time from now (tests inject a clock.Fake).
func WithClock(now clock.Func) Option { return func(c *config) { c.now = now } }

// WithIDs makes every service draw ids from gen (tests inject ids.Sequential()).
func WithIDs(gen ids.Generator) Option { return func(c *config) { c.newID = gen } }

// WithLogger sends Sety's logs (internal errors) to log. Default (and nil):
// discarded.
func WithLogger(log *slog.Logger) Option { return func(c *config) { c.log = log } }

// WithBasePath mounts the API under path instead of /v1/external, e.g.
// "/safety/v1/external" inside a larger service.
func WithBasePath(path string) Option {
	return func(c *config) { c.basePath = "/" + strings.Trim(path, "/") }
}

// WithHealthAlias registers the health check at path as well, e.g.
// "/health" at the root of a server that is only Sety (the example server
// does). Default: none, the health check is under the base path only, so
// a host keeps its own /health.
func WithHealthAlias(path string) Option { return func(c *config) { c.healthAlias = path } }

// WithNotifier tells n of every event after it is committed. A notifier
// that needs the *Sety it hears about can subscribe after New instead
// (Subscribe).
func WithNotifier(n outbox.Notifier) Option { return func(c *config) { c.notifier = n } }

// WithDispatcher replaces the built-in nearest-available dispatcher.
func WithDispatcher(d incident.Dispatcher) Option { return func(c *config) { c.dispatcher = d } }

// WithMetrics registers Sety's Prometheus collectors on reg: HTTP requests
// and latency by operation (requests no operation matched, counted by
// [Sety.RouteErrors], as "unknown"), incidents by status and environment
// and the dispatch queue (read from the store at scrape time), incident
// events by type and environment, dispatch, assignment and arrival delays,
// SLA breaches by environment, webhook attempts by outcome and their
// latency, pending webhook deliveries (in all, and the most one endpoint
// has), access validations by result, rate-limit rejections by plan, rows
// deleted by retention. No label tells tenants apart: whoever reads the
// metrics learns no organization's, key's or endpoint's id. Serve reg
// where your service serves metrics (the example server: /metrics, or its
// own listener with -metrics-addr). Default: none.
func WithMetrics(reg prometheus.Registerer) Option { return func(c *config) { c.metrics = reg } }

// WithDispatchRange sets the farthest a responder is sent, per tenant and
// category (default 50 km for every incident). A live incident with no
// available responder in range waits in dispatching, its timeline saying so.
func WithDispatchRange(r incident.DispatchRange) Option {
	return func(c *config) { c.dispatchRange = r }
}

// WithSLAPolicy sets the assignment and arrival targets per severity.
func WithSLAPolicy(p incident.SLAPolicy) Option { return func(c *config) { c.sla = p } }

// WithSimulation sets how the sandbox walks drills (steps and speed).
func WithSimulation(sim incident.Simulation) Option { return func(c *config) { c.simulation = sim } }

// WithOperationsConsole enables the operations console (responder pool and
// status reports, scope responders:write). Its operations are in the
// OpenAPI document either way, so the document does not depend on the
// server's options; without this option they answer 404.
func WithOperationsConsole() Option { return func(c *config) { c.console = true } }

// WithWebhooks configures webhook delivery: private or http:// targets for
// local development, the per-attempt timeout, the transport (tests).
func WithWebhooks(cfg webhook.Config) Option { return func(c *config) { c.webhooks = cfg } }

// WithAccessCodeKey sets the key access codes are hashed with. Keep it
// outside the database (an environment variable, a secret store): without
// it, Sety keeps a random key in the database, where a thief of the
// database finds it too.
func WithAccessCodeKey(key []byte) Option { return func(c *config) { c.codeKey = key } }

// WithWebhookSecretKeys sets the keys webhook signing secrets are
// encrypted with at rest (AES-256-GCM), each at least 32 bytes. The first
// encrypts; every one decrypts: to rotate, put the new key first and keep
// the old one after it until the webhook worker has started once (Run
// re-encrypts every secret with the first key; or call
// Webhooks.ReencryptSecrets), then drop it. Keep them outside the
// database: without them, Sety keeps a random key in the database, where a
// thief of the database finds it too. It overrides webhook.Config.SecretKeys.
func WithWebhookSecretKeys(keys ...[]byte) Option {
	return webhookOption(func(wh *webhook.Config) { wh.SecretKeys = keys })
}

// webhookOption sets a field of the webhook configuration, over what
// WithWebhooks gives whichever comes first.
func webhookOption(set func(*webhook.Config)) Option {
	return func(c *config) { c.webhookOpts = append(c.webhookOpts, set) }
}

// WithAccessLockout sets the brute-force rule of code validation.
func WithAccessLockout(l access.Lockout) Option { return func(c *config) { c.lockout = l } }

// WithRateLimiter counts requests against the plans' limits with l; nil
// turns limits off. Default: when the adapter offers a store of leases
// (SQLite, PostgreSQL), an auth.LeaseLimiter over it: every instance over
// the database enforces one limit, taking budget in leases so that a
// request does not write; else (memory) the exact in-process limiter.
// Run runs the lease limiter's sweep.
func WithRateLimiter(l auth.RateLimiter) Option {
	return func(c *config) { c.limiter, c.limiterSet = l, true }
}

// WithKeyCacheTTL sets how long a key that authenticated is trusted
// without a store read (auth.Config.KeyCacheTTL, default 10 s; negative:
// read the store on every request). Revocations and suspensions made
// through this Sety apply at once; made through another instance sharing
// the store, they reach this one within ttl, for requests and open event
// streams alike (see WithEventStream).
func WithKeyCacheTTL(ttl time.Duration) Option { return func(c *config) { c.keyCacheTTL = ttl } }

// WithSessionTTL sets how long a console session lasts from sign-in
// (auth.Config.SessionTTL, default 12 h); a session never outlives the key
// that started it.
func WithSessionTTL(ttl time.Duration) Option { return func(c *config) { c.sessionTTL = ttl } }

// WithEventStream configures the live event stream: its heartbeat and how
// often the keys of open streams are read again (stream.Config; its Keys
// and Logger are Sety's own). Without a Recheck, streams are rechecked as
// often as a cached key is (WithKeyCacheTTL: 10 s by default, every second
// with no cache), at most every heartbeat: a key revoked or an
// organization suspended through any instance ends its streams on every
// instance within that time, and through this one at once.
func WithEventStream(cfg stream.Config) Option { return func(c *config) { c.stream = cfg } }

// WithSessionRetention sets how long the record of an ended console
// session (expired, signed out, or ended with its key) stays in the key
// list before Run deletes it (auth.Config.SessionRetention, default 7
// days; negative: kept forever).
func WithSessionRetention(d time.Duration) Option { return func(c *config) { c.sessionKeep = d } }

// WithRetention sets how long finished webhook deliveries (succeeded,
// failed, and skipped ones past the 72 h in which re-enabling an endpoint
// sends them) and the published events no kept delivery carries are kept
// before the webhook worker deletes them (webhook.Config.Retention,
// default 30 days). Pending deliveries and their events are kept whatever
// their age. 0 or negative: keep everything forever.
func WithRetention(d time.Duration) Option {
	if d <= 0 {
		d = webhook.KeepForever // the webhook config's zero is its default
	}
	return webhookOption(func(wh *webhook.Config) { wh.Retention = d })
}

// WithPlanLimits sets the requests per minute of each plan
// (auth.Config.Limits). Default: auth.DefaultLimits(), the public docs'
// starter 60, growth 300, enterprise 1,000. Give every plan a limit.
func WithPlanLimits(limits map[auth.Plan]int) Option { return func(c *config) { c.limits = limits } }

// New builds Sety over stores. It starts nothing and prints nothing.
func New(stores Stores, opts ...Option) (*Sety, error) {
	if isNil(stores) {
		return nil, errors.New("sety: stores are required (got a nil store)")
	}
	c := config{now: clock.System, newID: ids.New, basePath: DefaultBasePath}
	for _, o := range opts {
		o(&c)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = clock.System
	}
	if c.newID == nil {
		c.newID = ids.New
	}
	if err := c.guest.check(); err != nil {
		return nil, err
	}
	if c.basePath == "/" {
		c.basePath = ""
	}
	if c.sla != nil {
		if err := c.sla.Validate(); err != nil {
			return nil, fmt.Errorf("sety: %w", err)
		}
	}
	wh := c.webhooks
	for _, set := range c.webhookOpts {
		set(&wh)
	}
	if err := webhook.CheckSecretKeys(wh.SecretKeys); err != nil {
		return nil, fmt.Errorf("sety: %w", err)
	}
	if wh.Now == nil {
		wh.Now = c.now
	}
	if wh.NewID == nil {
		wh.NewID = c.newID
	}
	if wh.Logger == nil {
		wh.Logger = c.log
	}
	var (
		m             *telemetry.Metrics
		observe       func(*incident.Incident, []outbox.Event)
		onValidated   func(string)
		onRateLimited func(auth.Plan)
		onLeaseWait   func()
	)
	if c.metrics != nil {
		var err error
		if m, err = telemetry.New(c.metrics); err != nil {
			return nil, fmt.Errorf("sety: metrics: %w", err)
		}
		if err := telemetry.StoreGauges(c.metrics, stores.IncidentStore(), stores.WebhookQueue(), c.log); err != nil {
			return nil, fmt.Errorf("sety: metrics: %w", err)
		}
		observe, onValidated, onRateLimited, onLeaseWait = m.ObserveIncident, m.Validated, m.RateLimited, m.LeaseWaited
		wh = m.Webhooks(wh)
		if commits, ok := stores.(ports.CommitObserver); ok {
			commits.ObserveCommits(m.Committed)
		}
		if alone, ok := stores.(ports.Alone); ok {
			if err := telemetry.AloneGauge(c.metrics, alone.Alone); err != nil {
				return nil, fmt.Errorf("sety: metrics: %w", err)
			}
		}
		if pool, ok := stores.(ports.ConnectionPool); ok {
			err := telemetry.PoolGauges(c.metrics, func() telemetry.PoolStats {
				var s telemetry.PoolStats
				s.Max, s.InUse, s.Waits, s.Waited = pool.PoolStats()
				return s
			})
			if err != nil {
				return nil, fmt.Errorf("sety: metrics: %w", err)
			}
		}
	}
	if !c.limiterSet {
		c.limiter = defaultLimiter(stores, c, onLeaseWait)
	}
	webhooks := webhook.NewService(stores.WebhookStore(), stores.WebhookQueue(), wh)
	engine := threat.NewEngine(threat.Config{Now: c.now, Logger: c.log})
	follower := newThreatFollower(engine, stores.EventLog())
	observe = observeBoth(follower.remember, observe)
	keys := auth.NewService(stores.AuthStore(), auth.Config{Now: c.now, NewID: c.newID, Limiter: c.limiter, Logger: c.log,
		Limits: c.limits, OnRateLimited: onRateLimited, KeyCacheTTL: c.keyCacheTTL, SessionTTL: c.sessionTTL, SessionRetention: c.sessionKeep,
		Authenticator: c.guest.authenticator})
	streams := c.stream
	streams.Keys, streams.Logger = keys, c.log
	hub := stream.NewHub(stores.EventLog(), streams)
	subs := &subscribers{}
	notifiers := outbox.Notifiers{webhooks, follower, hub, subs}
	if c.notifier != nil {
		notifiers = append(notifiers, c.notifier)
	}
	return &Sety{
		Incidents: incident.NewService(stores.IncidentStore(), incident.Config{
			Now: c.now, NewID: c.newID, Notifier: notifiers, Logger: c.log, Responders: stores.ResponderStore(),
			Dispatcher: c.dispatcher, DispatchRange: c.dispatchRange, SLA: c.sla, Simulation: c.simulation, Observe: observe,
		}),
		Auth:     keys,
		Webhooks: webhooks,
		Threat:   engine,
		Access: access.NewService(stores.AccessStore(), access.Config{
			Now: c.now, NewID: c.newID, Notifier: notifiers, Logger: c.log, CodeKey: c.codeKey, Lockout: c.lockout,
			OnValidated: onValidated,
		}),
		metrics:     m,
		stores:      stores,
		now:         c.now,
		log:         c.log,
		basePath:    c.basePath,
		healthAlias: c.healthAlias,
		console:     c.console,
		ready:       make(chan struct{}),
		threat:      follower,
		hub:         hub,
		guest:       c.guest,
		subscribers: subs,
		life:        newLifecycle(),
	}, nil
}

// defaultLimiter shares the rate limit through the store when it can;
// onWait, if not nil, hears of each request that waited for a lease.
func defaultLimiter(stores Stores, c config, onWait func()) auth.RateLimiter {
	if shared, ok := stores.(ports.RateLeases); ok {
		return auth.NewLeaseLimiter(shared.RateLeases(), auth.LeaseConfig{Now: c.now, Logger: c.log, OnWait: onWait})
	}
	return auth.NewMemoryRateLimiter()
}

// BasePath returns the path the API is mounted under.
func (s *Sety) BasePath() string { return s.basePath }

// Ready is closed once Run has loaded the threat history and started the
// event stream: a server that waits for it never answers threat queries
// from a half-loaded engine, nor a stream request 503.
func (s *Sety) Ready() <-chan struct{} { return s.ready }

// SyncThreat applies to the threat engine every committed incident event it
// has not seen yet, from any instance sharing the store. Run does it
// continuously (at once for this process's commits, or, on PostgreSQL,
// as soon as any instance's commits are in the log; every second for
// others'); tests call it to see a change without running the workers.
func (s *Sety) SyncThreat(ctx context.Context) error {
	for {
		more, err := s.threat.catchUp(ctx)
		if err != nil || !more {
			return err
		}
	}
}

// RouteErrors answers requests no route of mux matched with a JSON 404, or a
// 405 when the path exists under another method. Mount it at the catch-all
// of the prefix Sety serves:
//
//	mux.Handle(s.BasePath()+"/", sety.RouteErrors(mux))
//
// [Sety.RouteErrors] does the same and counts those requests in the metrics.
func RouteErrors(mux *http.ServeMux) http.Handler { return httpapi.RouteErrors(mux) }

// RouteErrors is the package's [RouteErrors] that also counts the requests
// it answers, when Sety has metrics (WithMetrics), as operation "unknown"
// in sety_http_requests_total and sety_http_request_duration_seconds, so
// scans and misconfigured clients show in the request rate:
//
//	mux.Handle(s.BasePath()+"/", s.RouteErrors(mux))
func (s *Sety) RouteErrors(mux *http.ServeMux) http.Handler {
	h := httpapi.RouteErrors(mux)
	if s.metrics != nil {
		h = s.metrics.Unmatched(h)
	}
	return h
}

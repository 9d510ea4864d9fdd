// Package prometheus is the Prometheus adapter of Sety's metrics: the collectors, the hooks
// the domain services call, the HTTP middleware, and the collector that
// reads the store's gauges at scrape time. The facade builds one Metrics
// on the registry the host gives it (sety.WithMetrics); without one,
// nothing is measured and nothing is registered.
//
// Metrics are an operator's view of every tenant together: no label names
// or tells apart a tenant (an organization, a key, an endpoint, an
// incident). Labels take values from small fixed sets: operation ids,
// statuses, event types, environments (live, test), plans, outcomes. A
// tenant's own figures (an endpoint's backlog) are in its API instead.
package prometheus

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/webhook"
)

// Metrics holds every collector Sety updates.
type Metrics struct {
	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	incidentEvents  *prometheus.CounterVec
	dispatchDelay   prometheus.Histogram
	assignDelay     prometheus.Histogram
	arriveDelay     prometheus.Histogram
	slaBreaches     *prometheus.CounterVec
	validations     *prometheus.CounterVec
	rateLimited     *prometheus.CounterVec
	leaseWaits      prometheus.Counter
	deliveries      *prometheus.CounterVec
	purged          *prometheus.CounterVec
	attemptDuration prometheus.Histogram
	commitDuration  prometheus.Histogram
	batchSize       prometheus.Histogram

	bound sync.Map // requestSeries → *boundSeries, for request
}

// latencyBuckets span a fast request to a slow one, in seconds.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// dispatchBuckets span an instant assignment to a missed arrival, in seconds.
var dispatchBuckets = []float64{.01, .1, .5, 1, 5, 15, 30, 60, 90, 180, 300, 600, 1200, 1800}

// New registers Sety's collectors on reg.
func New(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sety_http_requests_total",
			Help: "HTTP requests to Sety's operations, by operation id and status."}, []string{"operation", "status"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sety_http_request_duration_seconds",
			Help: "Time to answer Sety's operations, by operation id.", Buckets: latencyBuckets}, []string{"operation"}),
		incidentEvents: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sety_incident_events_total",
			Help: "Committed incident changes, by event type (incident.created, .assigned, ...) and environment (live, test)."}, []string{"type", "environment"}),
		dispatchDelay: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sety_incident_dispatch_delay_seconds",
			Help: "Live incidents: creation to dispatching.", Buckets: dispatchBuckets}),
		assignDelay: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sety_incident_assign_delay_seconds",
			Help: "Live incidents: creation to a responder assigned.", Buckets: dispatchBuckets}),
		arriveDelay: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sety_incident_arrive_delay_seconds",
			Help: "Live incidents: creation to the responder on scene.", Buckets: dispatchBuckets}),
		slaBreaches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sety_sla_breaches_total",
			Help: "SLA targets missed (each breach event records one or two), by environment (live, test)."}, []string{"environment"}),
		validations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sety_access_validations_total",
			Help: "Access code validations, by result (ok, not_found, locked, ...)."}, []string{"result"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sety_rate_limit_rejections_total",
			Help: "Requests refused with 429, by plan."}, []string{"plan"}),
		leaseWaits: prometheus.NewCounter(prometheus.CounterOpts{Name: "sety_rate_limit_lease_waits_total",
			Help: "Requests that waited for a store write to lease rate-limit budget (their tenant had no lease open on this instance)."}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sety_webhook_deliveries_total",
			Help: "Webhook delivery attempts, by outcome (succeeded, retrying, failed)."}, []string{"outcome"}),
		purged: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sety_purged_total",
			Help: "Rows deleted by retention, by kind (deliveries, events)."}, []string{"kind"}),
		attemptDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sety_webhook_attempt_duration_seconds",
			Help: "Time a webhook endpoint took to answer an attempt.", Buckets: latencyBuckets}),
		commitDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sety_store_commit_seconds",
			Help: "Store write transactions: time from BEGIN to the end of COMMIT (one commit may carry a batch).", Buckets: latencyBuckets}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sety_store_commit_batch_size",
			Help: "Write transactions carried by one commit (group commit).", Buckets: prometheus.ExponentialBuckets(1, 2, 8)}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.requestDuration, m.incidentEvents, m.dispatchDelay, m.assignDelay,
		m.arriveDelay, m.slaBreaches, m.validations, m.rateLimited, m.leaseWaits, m.deliveries, m.purged, m.attemptDuration, m.commitDuration, m.batchSize} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, env := range []auth.Environment{auth.Live, auth.Test} {
		m.slaBreaches.WithLabelValues(string(env)) // a 0 to alert on before the first breach
	}
	return m, nil
}

// Middleware counts and times every Sety operation (huma middleware, run
// before authentication so 401s and 429s count too).
func (m *Metrics) Middleware(ctx huma.Context, next func(huma.Context)) {
	start := time.Now()
	next(ctx)
	m.request(ctx.Operation().OperationID, ctx.Status(), start)
}

// UnknownOperation is the operation label of requests no operation matched.
const UnknownOperation = "unknown"

// Unmatched counts and times the requests h answers, those no operation
// matched (its 404s and 405s), as operation "unknown": scans and broken
// clients show in the request rate, under one series whatever their path.
func (m *Metrics) Unmatched(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		m.request(UnknownOperation, rec.status, start)
	})
}

func (m *Metrics) request(operation string, status int, start time.Time) {
	key := requestSeries{operation, status}
	s, ok := m.bound.Load(key)
	if !ok {
		// Operations and statuses are few: each pair binds its series once,
		// instead of hashing its label values on every request.
		s, _ = m.bound.LoadOrStore(key, &boundSeries{
			requests: m.requests.WithLabelValues(operation, statusText(status)),
			duration: m.requestDuration.WithLabelValues(operation),
		})
	}
	b := s.(*boundSeries)
	b.requests.Inc()
	b.duration.Observe(time.Since(start).Seconds())
}

// requestSeries is an operation and a status, the labels of a request's
// series.
type requestSeries struct {
	operation string
	status    int
}

// boundSeries is the request count and duration series of one operation
// and status.
type boundSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// statusWriter remembers the status written through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// statusText is a status as a label, from a small fixed set of strings.
func statusText(code int) string {
	if code == 0 {
		code = 200
	}
	return itoa[code/100%10] + itoa[code/10%10] + itoa[code%10]
}

var itoa = [10]string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// ObserveIncident is the incident service's hook: it counts the committed
// events by environment, and times the live lifecycle from creation.
func (m *Metrics) ObserveIncident(inc *incident.Incident, events []outbox.Event) {
	env := string(inc.Environment)
	for _, ev := range events {
		m.incidentEvents.WithLabelValues(ev.Type, env).Inc()
		if ev.Type == incident.TypeSLABreached {
			m.slaBreaches.WithLabelValues(env).Inc()
		}
	}
	if inc.IsDrill {
		return
	}
	since := func(t time.Time) float64 { return t.Sub(inc.CreatedAt.Time).Seconds() }
	for _, ev := range events {
		switch ev.Type {
		case incident.TypeDispatching:
			m.dispatchDelay.Observe(since(ev.CreatedAt))
		case incident.TypeAssigned:
			if inc.Responder != nil && inc.Tracking.FirstAssignedAt.IsZero() { // a reassignment is not a first assignment
				m.assignDelay.Observe(since(inc.Responder.AssignedAt.Time))
			}
		case incident.TypeOnScene:
			if inc.Responder != nil && !inc.Responder.ArrivedAt.IsZero() {
				m.arriveDelay.Observe(since(inc.Responder.ArrivedAt.Time))
			}
		}
	}
}

// Validated is the access service's hook.
func (m *Metrics) Validated(reason string) { m.validations.WithLabelValues(reason).Inc() }

// RateLimited is the auth service's hook.
func (m *Metrics) RateLimited(plan auth.Plan) { m.rateLimited.WithLabelValues(string(plan)).Inc() }

// LeaseWaited is the rate limiter's hook: a request waited for a lease.
func (m *Metrics) LeaseWaited() { m.leaseWaits.Inc() }

// Attempted is the webhook worker's hook: one attempt's outcome and how
// long the endpoint took.
func (m *Metrics) Attempted(outcome string, took time.Duration) {
	m.deliveries.WithLabelValues(outcome).Inc()
	m.attemptDuration.Observe(took.Seconds())
}

// Purged is the webhook worker's retention hook: n rows of kind deleted.
func (m *Metrics) Purged(kind string, n int) { m.purged.WithLabelValues(kind).Add(float64(n)) }

// Committed is the store's hook: one commit of a batch of write
// transactions and how long it took.
func (m *Metrics) Committed(batch int, took time.Duration) {
	m.batchSize.Observe(float64(batch))
	m.commitDuration.Observe(took.Seconds())
}

// StoreGauges registers the gauges read from the store at scrape time:
// active incidents by environment and status, the dispatch queue's depth,
// and the webhook endpoints' pending deliveries, in all and the largest
// one endpoint has. A scrape that cannot read the store within a second
// leaves out what it could not read and logs why.
func StoreGauges(reg prometheus.Registerer, incidents incident.Store, deliveries webhook.Queue, log *slog.Logger) error {
	return reg.Register(&storeCollector{incidents: incidents, deliveries: deliveries, log: log})
}

type storeCollector struct {
	incidents  incident.Store
	deliveries webhook.Queue
	log        *slog.Logger
}

var (
	activeDesc = prometheus.NewDesc("sety_incidents_active", "Active incidents of every tenant, by status and environment (live, test).",
		[]string{"status", "environment"}, nil)
	queueDesc = prometheus.NewDesc("sety_dispatch_queue_depth", "Live incidents waiting in dispatching for a responder in range.", nil, nil)
	// No endpoint id: it would tell every tenant's endpoints to whoever
	// reads the metrics. The largest backlog tells one stuck endpoint from
	// a slow worker; the tenant sees which in its API (pending_deliveries).
	pendingDesc    = prometheus.NewDesc("sety_webhook_pending_deliveries", "Deliveries of every endpoint waiting for their first attempt or a retry.", nil, nil)
	pendingMaxDesc = prometheus.NewDesc("sety_webhook_pending_deliveries_max",
		"The largest number of pending deliveries one endpoint has (which one: its tenant's GET /webhooks shows pending_deliveries).", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- activeDesc
	ch <- queueDesc
	ch <- pendingDesc
	ch <- pendingMaxDesc
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if counts, err := c.incidents.CountActive(ctx); err != nil {
		c.log.Error("metrics: count active incidents", "error", err)
	} else {
		for _, env := range []auth.Environment{auth.Live, auth.Test} {
			for _, st := range incident.Statuses {
				if st.Active() {
					ch <- prometheus.MustNewConstMetric(activeDesc, prometheus.GaugeValue, float64(counts.Active[env][st]), string(st), string(env))
				}
			}
		}
		ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(counts.Queued))
	}
	if pending, err := c.deliveries.PendingDeliveries(ctx); err != nil {
		c.log.Error("metrics: count pending webhook deliveries", "error", err)
	} else {
		total, most := 0, 0
		for _, n := range pending {
			total, most = total+n, max(most, n)
		}
		ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(total))
		ch <- prometheus.MustNewConstMetric(pendingMaxDesc, prometheus.GaugeValue, float64(most))
	}
}

// AloneGauge registers sety_store_alone, read at scrape time from alone:
// 1 while this instance is the only one with its store open (its gets then
// answer from what it keeps; ports.Alone), 0 otherwise.
func AloneGauge(reg prometheus.Registerer, alone func() bool) error {
	return reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sety_store_alone",
		Help: "1 while this instance is the only one with its store open (SQLite on Linux: its gets answer without looking for other instances' writes), else 0."},
		func() float64 {
			if alone() {
				return 1
			}
			return 0
		}))
}

// PoolStats is what a store with a connection pool says of it: how many
// connections it may open and how many are lent out now, and how many
// times, for how long in all, callers waited for one because none was
// idle.
type PoolStats struct {
	Max, InUse int
	Waits      int64
	Waited     time.Duration
}

// PoolGauges registers the series of a store's connection pool, read at
// scrape time from stats: callers waiting for a connection is the sign of
// a pool too small for the load (sety_store_pool_wait_seconds_total grows
// faster than requests do).
func PoolGauges(reg prometheus.Registerer, stats func() PoolStats) error {
	return reg.Register(poolCollector(stats))
}

type poolCollector func() PoolStats

var (
	poolMaxDesc    = prometheus.NewDesc("sety_store_pool_max_connections", "Connections the store's pool may open.", nil, nil)
	poolInUseDesc  = prometheus.NewDesc("sety_store_pool_connections_in_use", "Connections of the store's pool lent out now.", nil, nil)
	poolWaitsDesc  = prometheus.NewDesc("sety_store_pool_waits_total", "Times a caller waited for a connection of the store's pool because none was idle.", nil, nil)
	poolWaitedDesc = prometheus.NewDesc("sety_store_pool_wait_seconds_total", "Time callers spent waiting for a connection of the store's pool.", nil, nil)
)

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- poolMaxDesc
	ch <- poolInUseDesc
	ch <- poolWaitsDesc
	ch <- poolWaitedDesc
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c()
	ch <- prometheus.MustNewConstMetric(poolMaxDesc, prometheus.GaugeValue, float64(s.Max))
	ch <- prometheus.MustNewConstMetric(poolInUseDesc, prometheus.GaugeValue, float64(s.InUse))
	ch <- prometheus.MustNewConstMetric(poolWaitsDesc, prometheus.CounterValue, float64(s.Waits))
	ch <- prometheus.MustNewConstMetric(poolWaitedDesc, prometheus.CounterValue, s.Waited.Seconds())
}

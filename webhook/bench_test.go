package webhook_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/adapters/sqlite"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/webhook"
)

// benchSety is Sety over a fresh SQLite file with one organization and one
// endpoint at a local receiver that counts what it gets.
func benchSety(b *testing.B, received *atomic.Int64, arrived chan<- time.Time) (*sety.Sety, auth.Tenant) {
	b.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "sety.db"), &sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received.Add(1)
		if arrived != nil {
			arrived <- time.Now()
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(receiver.Close)
	s, err := sety.New(db, sety.WithWebhooks(webhook.Config{AllowPrivate: true, AllowInsecure: true}))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	org, _ := s.Auth.CreateOrganization(ctx, "Bench", auth.Enterprise)
	tenant := auth.Tenant{OrgID: org.ID, Env: auth.Live}
	if _, _, err := s.Webhooks.CreateEndpoint(ctx, tenant, webhook.CreateEndpointRequest{URL: receiver.URL, Events: []string{"incident.created"}}); err != nil {
		b.Fatal(err)
	}
	return s, tenant
}

var benchIncident = incident.CreateIncidentRequest{Category: incident.SOS, Location: incident.Location{Coordinates: geo.NewPoint(6.5244, 3.3792)}}

// BenchmarkDeliveryThroughput commits b.N incident.created events, then
// times the worker fanning them out and delivering them to a local
// receiver over HTTP; it reports deliveries per second.
//
//	go test ./webhook -run '^$' -bench DeliveryThroughput -benchtime 5000x
func BenchmarkDeliveryThroughput(b *testing.B) {
	var received atomic.Int64
	s, tenant := benchSety(b, &received, nil)
	ctx := context.Background()
	for range b.N {
		if _, _, err := s.Incidents.Create(ctx, tenant, benchIncident); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	start := time.Now()
	for received.Load() < int64(b.N) {
		if _, err := s.Webhooks.Tick(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
}

// BenchmarkCommitToFirstAttempt runs the worker as a server does and
// measures, per incident, the time from Create returning (the commit) to
// the request reaching the receiver.
//
//	go test ./webhook -run '^$' -bench CommitToFirstAttempt -benchtime 500x
func BenchmarkCommitToFirstAttempt(b *testing.B) {
	var received atomic.Int64
	arrived := make(chan time.Time, 1)
	s, tenant := benchSety(b, &received, arrived)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Webhooks.Run(ctx) }()
	defer func() { cancel(); <-done }()
	var total time.Duration
	for b.Loop() {
		if _, _, err := s.Incidents.Create(ctx, tenant, benchIncident); err != nil {
			b.Fatal(err)
		}
		committed := time.Now()
		total += (<-arrived).Sub(committed)
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N), "µs/commit-to-attempt")
}

// BenchmarkIsolation measures how much one endpoint that never answers
// delays the others. The hanging endpoint (of tenant A, subscribed to
// everything) starts with 1,000 deliveries pending; beside it are a healthy
// endpoint of tenant A and one of tenant B. The worker runs as a server
// runs it (Run, real clock), and b.N incidents are committed back to back,
// alternating tenants; each reaches its tenant's healthy endpoint (and the
// hanging one's backlog). Reported: commit-to-arrival at the healthy
// endpoints (p50, p99, max, in ms; from the event's created_at, stamped
// before the commit), and p99 per tenant. The control runs are the same
// without the hanging endpoint: what the machine delivers anyway.
//
//	go test ./webhook -run '^$' -bench Isolation -benchtime 300x
func BenchmarkIsolation(b *testing.B) {
	for _, hang := range []bool{true, false} {
		name := map[bool]string{true: "hanging", false: "control"}[hang]
		b.Run("memory/"+name, func(b *testing.B) { benchIsolation(b, memory.New(), hang) })
		b.Run("sqlite/"+name, func(b *testing.B) {
			db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "sety.db"), &sqlite.Options{Synchronous: "NORMAL"})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			benchIsolation(b, db, hang)
		})
	}
}

func benchIsolation(b *testing.B, stores sety.Stores, hang bool) {
	ctx := context.Background()
	s, err := sety.New(stores, sety.WithWebhooks(webhook.Config{AllowPrivate: true, AllowInsecure: true}))
	if err != nil {
		b.Fatal(err)
	}
	tenant := func(name string) auth.Tenant {
		org, err := s.Auth.CreateOrganization(ctx, name, auth.Enterprise)
		if err != nil {
			b.Fatal(err)
		}
		return auth.Tenant{OrgID: org.ID, Env: auth.Live}
	}
	a, other := tenant("Hanging and healthy"), tenant("Healthy only")
	endpoint := func(t auth.Tenant, url string, events ...string) *webhook.Endpoint {
		e, _, err := s.Webhooks.CreateEndpoint(ctx, t, webhook.CreateEndpointRequest{URL: url, Events: events})
		if err != nil {
			b.Fatal(err)
		}
		return e
	}

	release := make(chan struct{})
	var hung atomic.Int64
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hung.Add(1)
		select { // never answers while the benchmark runs
		case <-release:
		case <-r.Context().Done():
		}
	}))
	b.Cleanup(hanging.Close)
	b.Cleanup(func() { close(release) }) // first: the hanging handlers return
	if hang {
		h := endpoint(a, hanging.URL, "*")
		for range 1000 {
			if _, err := s.Webhooks.Ping(ctx, a, h.ID); err != nil {
				b.Fatal(err)
			}
		}
	}

	type arrival struct {
		org     string
		latency time.Duration
	}
	arrived := make(chan arrival, b.N)
	healthy := func(org string) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var p webhook.Payload
			if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			latency := time.Since(p.CreatedAt.Time)
			w.WriteHeader(http.StatusNoContent)
			arrived <- arrival{org, latency}
		}))
		b.Cleanup(srv.Close)
		return srv
	}
	endpoint(a, healthy(a.OrgID).URL, "incident.created")
	endpoint(other, healthy(other.OrgID).URL, "incident.created")

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); s.Webhooks.Run(runCtx) }()
	defer func() { stop(); <-done }()

	b.ResetTimer()
	for i := range b.N {
		t := []auth.Tenant{a, other}[i%2]
		if _, _, err := s.Incidents.Create(ctx, t, benchIncident); err != nil {
			b.Fatal(err)
		}
	}
	all := make([]time.Duration, 0, b.N)
	byOrg := map[string][]time.Duration{}
	for range b.N {
		got := <-arrived
		all = append(all, got.latency)
		byOrg[got.org] = append(byOrg[got.org], got.latency)
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(quantile(all, 0.50)), "p50-ms")
	b.ReportMetric(ms(quantile(all, 0.99)), "p99-ms")
	b.ReportMetric(ms(quantile(all, 1)), "max-ms")
	b.ReportMetric(ms(quantile(byOrg[a.OrgID], 0.99)), "p99-same-tenant-ms")
	b.ReportMetric(ms(quantile(byOrg[other.OrgID], 0.99)), "p99-other-tenant-ms")
	b.ReportMetric(float64(hung.Load()), "hanging-requests")
}

// quantile returns the q-quantile of ds (nearest rank); it sorts ds.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(math.Ceil(q*float64(len(ds)))) - 1
	return ds[max(0, min(i, len(ds)-1))]
}

package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sety-io/sety"
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

package postgres_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/sety-io/sety/adapters/postgres"
	"github.com/sety-io/sety/adapters/storetest"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/pgtest"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
)

// TestMain migrates a template database once; each test's database is a
// copy of it.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, postgres.Migrate)) }

// database is an open DB with the URL a second instance connects to.
type database struct {
	*postgres.DB
	url string
}

func open(tb testing.TB, url string) database {
	tb.Helper()
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return database{db, url}
}

func newStores(tb testing.TB) storetest.Stores { return open(tb, pgtest.URL(tb)) }

// Any number of instances may share one database: a second pool on the
// same URL is another instance.
var features = storetest.Features{
	Reopen:           func(tb testing.TB, s storetest.Stores) storetest.Stores { return open(tb, s.(database).url) },
	SharedRateLimits: true,
	QueuedCreate:     true,
}

func TestConformance(t *testing.T) { storetest.Run(t, newStores, features) }

func BenchmarkNearestAvailable(b *testing.B) { storetest.BenchmarkNearestAvailable(b, newStores) }

func BenchmarkClaimBesideBacklog(b *testing.B) { storetest.BenchmarkClaimBesideBacklog(b, newStores) }

func BenchmarkListIncidents(b *testing.B) { storetest.BenchmarkListIncidents(b, newStores) }

func BenchmarkPurgeSessions(b *testing.B) { storetest.BenchmarkPurgeSessions(b, newStores) }

func BenchmarkAuthenticateSession(b *testing.B) { storetest.BenchmarkAuthenticateSession(b, newStores) }

// PostgreSQL text holds no NUL character (SQLite's does; the services
// refuse control characters before any store sees them): a value with one
// is invalid input, not an internal error.
func TestTextWithNULIsInvalid(t *testing.T) {
	t.Parallel()
	org := &auth.Organization{ID: "org_nnnnnnnnnnnnnnnn", Name: "Acme\x00", Plan: auth.Growth, Status: auth.Active, CreatedAt: clock.At(t0)}
	err := newStores(t).AuthStore().CreateOrganization(context.Background(), org)
	if !setyerr.Is(err, setyerr.Invalid) {
		t.Fatalf("err = %v, want Invalid", err)
	}
}

// BenchmarkOutboxCommits measures creates (an incident and its event, one
// transaction each) from 8 × GOMAXPROCS concurrent writers: the rate at
// which transactions that write events commit (no lock orders them; the
// sequencer positions them after). The throwaway test cluster runs with
// fsync off; point SETY_TEST_DATABASE_URL at a durable server to see the
// WAL flush's share, or run bench/pgscale.
func BenchmarkOutboxCommits(b *testing.B) {
	db := newStores(b).(database)
	ctx := context.Background()
	org := &auth.Organization{ID: "org_aaaaaaaaaaaaaaaa", Name: "Acme", Plan: auth.Enterprise, Status: auth.Active, CreatedAt: clock.At(t0)}
	if err := db.AuthStore().CreateOrganization(ctx, org); err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.SetParallelism(8) // × GOMAXPROCS writers
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			inc, ev := newIncident(fmt.Sprintf("inc_%016d", n.Add(1)))
			if _, _, err := db.IncidentStore().CreateIncident(ctx, inc, incident.Effects{Events: []outbox.Event{ev}}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/sety-io/sety/adapters/postgres"
	"github.com/sety-io/sety/adapters/storetest"
	"github.com/sety-io/sety/internal/pgtest"
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
}

func TestConformance(t *testing.T) { storetest.Run(t, newStores, features) }

func BenchmarkNearestAvailable(b *testing.B) { storetest.BenchmarkNearestAvailable(b, newStores) }

package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sety-io/sety/adapters/sqlite"
	"github.com/sety-io/sety/adapters/storetest"
)

// file is an open database with the path a second handle opens.
type file struct {
	*sqlite.DB
	path string
}

func open(tb testing.TB, path string) file {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), path, &sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return file{db, path}
}

func newStores(tb testing.TB) storetest.Stores {
	return open(tb, filepath.Join(tb.TempDir(), "sety.db"))
}

// Several processes may share one SQLite file: a second Open of the same
// path is another instance.
var features = storetest.Features{
	Reopen:           func(tb testing.TB, s storetest.Stores) storetest.Stores { return open(tb, s.(file).path) },
	SharedRateLimits: true,
	QueuedCreate:     true,
}

func TestConformance(t *testing.T) { storetest.Run(t, newStores, features) }

func BenchmarkNearestAvailable(b *testing.B) { storetest.BenchmarkNearestAvailable(b, newStores) }

func BenchmarkClaimBesideBacklog(b *testing.B) { storetest.BenchmarkClaimBesideBacklog(b, newStores) }

func BenchmarkListIncidents(b *testing.B) { storetest.BenchmarkListIncidents(b, newStores) }

func BenchmarkPurgeSessions(b *testing.B) { storetest.BenchmarkPurgeSessions(b, newStores) }

func BenchmarkAuthenticateSession(b *testing.B) { storetest.BenchmarkAuthenticateSession(b, newStores) }

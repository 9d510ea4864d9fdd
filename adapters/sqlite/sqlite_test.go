package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/sqlite"
	"github.com/sety-io/sety/adapters/storetest"
)

func openTemp(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sety.db"), &sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(tb testing.TB) sety.Stores { return openTemp(tb) })
}

func BenchmarkNearestAvailable(b *testing.B) {
	storetest.BenchmarkNearestAvailable(b, func(tb testing.TB) sety.Stores { return openTemp(tb) })
}

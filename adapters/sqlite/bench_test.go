package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
)

// benchDB opens a database for a benchmark, closed when it ends, with
// one enterprise organization; it returns the organization's live tenant.
func benchDB(b *testing.B) (*DB, auth.Tenant) {
	db, err := Open(context.Background(), filepath.Join(b.TempDir(), "sety.db"), &Options{Synchronous: "NORMAL"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	tenant := auth.Tenant{OrgID: "org_bench00000000000", Env: auth.Live}
	org := &auth.Organization{ID: tenant.OrgID, Name: "Bench", Plan: auth.Enterprise, Status: auth.Active, CreatedAt: clock.At(time.Now())}
	if err := db.AuthStore().CreateOrganization(context.Background(), org); err != nil {
		b.Fatal(err)
	}
	return db, tenant
}

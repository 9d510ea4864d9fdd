package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/outbox"
)

// The fixtures of the package's internal tests: a time, and the live
// tenant of one organization.
var (
	fixtureTime   = time.Date(2026, 3, 10, 14, 22, 5, 412e6, time.UTC)
	fixtureTenant = auth.Tenant{OrgID: "org_aaaaaaaaaaaaaaaa", Env: auth.Live}
)

// openWithOrg opens the database at url, closed when t ends, with the
// fixture tenant's organization in it.
func openWithOrg(t testing.TB, url string) *DB {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	org := &auth.Organization{ID: fixtureTenant.OrgID, Name: "Acme", Plan: auth.Enterprise, Status: auth.Active, CreatedAt: clock.At(fixtureTime)}
	if err := db.AuthStore().CreateOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	return db
}

// secondTenant is the live tenant of a second organization, which
// addSecondOrg creates: tests that need two tenants use it.
var secondTenant = auth.Tenant{OrgID: "org_bbbbbbbbbbbbbbbb", Env: auth.Live}

// addSecondOrg creates secondTenant's organization, named name, in db.
func addSecondOrg(t testing.TB, db *DB, name string) auth.Tenant {
	t.Helper()
	org := &auth.Organization{ID: secondTenant.OrgID, Name: name, Plan: auth.Enterprise, Status: auth.Active, CreatedAt: clock.At(fixtureTime)}
	if err := db.AuthStore().CreateOrganization(context.Background(), org); err != nil {
		t.Fatal(err)
	}
	return secondTenant
}

// fixtureEvent is an incident event of the fixture tenant whose subject is
// its own id.
func fixtureEvent(id string) outbox.Event {
	return outbox.Event{ID: id, OrgID: fixtureTenant.OrgID, Environment: string(fixtureTenant.Env), Type: "incident.created",
		SubjectID: id, Sequence: 1, Data: []byte(`{}`), CreatedAt: fixtureTime}
}

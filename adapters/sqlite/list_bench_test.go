package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
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
	org := &auth.Organization{ID: tenant.OrgID, Name: "Bench", Plan: auth.Enterprise, Status: auth.Active}
	if err := db.AuthStore().CreateOrganization(context.Background(), org); err != nil {
		b.Fatal(err)
	}
	return db, tenant
}

// BenchmarkListIncidents measures a page of 20 with its total, as the list
// operation reads it, over one tenant's 20,000 incidents (most resolved or
// cancelled, a few active, as after a busy week), for the filters a
// dashboard sends:
//
//	go test ./adapters/sqlite -run '^$' -bench ListIncidents -benchtime 200x
func BenchmarkListIncidents(b *testing.B) {
	const n = 20_000
	ctx := context.Background()
	db, tenant := benchDB(b)
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)
	for i := range n {
		at := clock.At(start.Add(time.Duration(i) * 30 * time.Second))
		status := incident.Resolved
		switch r := rng.IntN(100); {
		case r < 2:
			status = incident.Dispatching
		case r < 4:
			status = incident.Assigned
		case r < 20:
			status = incident.Cancelled
		}
		inc := &incident.Incident{
			ID: fmt.Sprintf("inc_%016d", i), Category: incident.Categories[rng.IntN(len(incident.Categories))],
			Severity: incident.Severities[rng.IntN(len(incident.Severities))], Status: status, Title: "Bench",
			Location:  incident.IncidentLocation{Coordinates: geo.NewPoint(6.4+rng.Float64()/10, 3.4+rng.Float64()/10)},
			Timeline:  []incident.IncidentTimelineEvent{{Status: incident.Created, Event: incident.EventCreated, Message: "Incident received", Timestamp: at}},
			CreatedAt: at, UpdatedAt: at, OrgID: tenant.OrgID, Environment: tenant.Env, Sequence: 1,
		}
		if _, _, err := db.IncidentStore().CreateIncident(ctx, inc, incident.Effects{}); err != nil {
			b.Fatal(err)
		}
	}
	for _, q := range []struct {
		name string
		f    incident.Filter
	}{
		{"all", incident.Filter{}},
		{"dispatching", incident.Filter{Statuses: []incident.Status{incident.Dispatching}}},
		{"active", incident.Filter{Statuses: []incident.Status{incident.Assigned, incident.Responding, incident.OnScene}}},
		{"critical-high", incident.Filter{Severities: []incident.Severity{incident.Critical, incident.High}}},
		{"vehicle-resolved", incident.Filter{Categories: []incident.Category{incident.Vehicle}, Statuses: []incident.Status{incident.Resolved}}},
		{"page-2", incident.Filter{Offset: 20}},
	} {
		q.f.Limit = 20
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if _, total, err := db.IncidentStore().ListIncidents(ctx, tenant, q.f); err != nil || total == 0 {
					b.Fatal(total, err)
				}
			}
		})
	}
}

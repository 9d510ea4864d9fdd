package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
)

// BenchmarkListIncidents measures a page of 20 with its total, as the list
// operation reads it, over one tenant's 20,000 incidents (most resolved or
// cancelled, a few active, as after a busy week), for the filters a
// dashboard sends. Every adapter runs it:
//
//	func BenchmarkListIncidents(b *testing.B) { storetest.BenchmarkListIncidents(b, newStores) }
func BenchmarkListIncidents(b *testing.B, newStores NewStores) {
	const n = 20_000
	ctx := context.Background()
	store := seeded(newStores)(b).IncidentStore()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		at := clock.At(base.Add(time.Duration(i-n) * 30 * time.Second))
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
			CreatedAt: at, UpdatedAt: at, OrgID: tenantA.OrgID, Environment: tenantA.Env, Sequence: 1,
		}
		_, _, err := store.CreateIncident(ctx, inc, incident.Effects{})
		must(b, err)
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
		{"last-day", incident.Filter{From: base.Add(-24 * time.Hour)}},
	} {
		q.f.Limit = 20
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if _, total, err := store.ListIncidents(ctx, tenantA, q.f); err != nil || total == 0 {
					b.Fatal(total, err)
				}
			}
		})
	}
}

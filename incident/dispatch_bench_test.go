package incident_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/adapters/sqlite"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/ids"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/cputime"
)

// benchQueue is how many live incidents wait, with no responder, while the
// benchmarks dispatch new ones.
const benchQueue = 10_000

// queuedWorld is a service over adapter with 10,000 live incidents queued
// around Lagos and no responder on duty.
func queuedWorld(b *testing.B, adapter string) (*incident.Service, stores) {
	st := benchStores(b, adapter)
	ctx := context.Background()
	svc := incident.NewService(st.IncidentStore(), incident.Config{Responders: st.ResponderStore(), NewID: ids.New})
	rng := rand.New(rand.NewPCG(1, 2))
	for range benchQueue {
		p := geo.NewPoint(here.Lat()+(rng.Float64()-0.5)*0.4, here.Lng()+(rng.Float64()-0.5)*0.4) // within ~22 km
		if _, _, err := svc.Create(ctx, live, incident.CreateIncidentRequest{Category: incident.SOS,
			Severity: incident.Severities[rng.IntN(3)], Location: incident.Location{Coordinates: p}}); err != nil {
			b.Fatal(err)
		}
	}
	return svc, st
}

// BenchmarkDispatchBesideQueue measures, with 10,000 live incidents queued
// and nobody free, how long a new critical incident takes to be stored in
// dispatching (its create) and how long a responder coming on duty takes to
// be assigned to the most severe, oldest incident in its reach (its
// upsert), on each adapter:
//
//	go test ./incident -run '^$' -bench DispatchBesideQueue -benchtime 200x
func BenchmarkDispatchBesideQueue(b *testing.B) {
	for _, adapter := range []string{"memory", "sqlite"} {
		b.Run(adapter, func(b *testing.B) {
			svc, _ := queuedWorld(b, adapter)
			ctx := context.Background()
			var creates, offers []time.Duration
			n := 0
			for b.Loop() {
				n++
				start := time.Now()
				inc, _, err := svc.Create(ctx, live, incident.CreateIncidentRequest{Category: incident.SOS, Severity: incident.Critical,
					Location: incident.Location{Coordinates: here}})
				creates = append(creates, time.Since(start))
				if err != nil || inc.Status != incident.Dispatching {
					b.Fatalf("new critical incident: %v %v", inc.Status, err)
				}
				start = time.Now()
				r, err := svc.UpsertResponder(ctx, live, fmt.Sprintf("rsp_%016d", n), incident.ResponderInput{Name: "Unit", Location: here})
				offers = append(offers, time.Since(start))
				if err != nil || r.IncidentID == nil || *r.IncidentID != inc.ID {
					b.Fatalf("the responder on duty went to %v, want the new critical incident %s (%v)", r.IncidentID, inc.ID, err)
				}
			}
			b.ReportMetric(percentileMs(creates, 0.5), "create-p50-ms")
			b.ReportMetric(percentileMs(creates, 0.99), "create-p99-ms")
			b.ReportMetric(percentileMs(offers, 0.5), "assign-p50-ms")
			b.ReportMetric(percentileMs(offers, 0.99), "assign-p99-ms")
		})
	}
}

// BenchmarkIdleBesideQueue runs the engine for a few seconds over 10,000
// queued incidents with nothing to do, and reports the CPU it used as a
// share of one core (the engine must not poll the queue):
//
//	go test ./incident -run '^$' -bench IdleBesideQueue -benchtime 1x
func BenchmarkIdleBesideQueue(b *testing.B) {
	for _, adapter := range []string{"memory", "sqlite"} {
		b.Run(adapter, func(b *testing.B) {
			svc, _ := queuedWorld(b, adapter)
			for b.Loop() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				before, wall := cputime.Process(), time.Now()
				svc.Run(ctx)
				cancel()
				b.ReportMetric(100*(cputime.Process()-before).Seconds()/time.Since(wall).Seconds(), "idle-cpu-%")
			}
		})
	}
}

// benchStores opens the stores of adapter ("memory", "sqlite" with
// synchronous=FULL as the server runs it, or "sqlite-sync=NORMAL") with the
// live tenant's organization on the enterprise plan.
func benchStores(b testing.TB, adapter string) stores {
	var st stores
	switch adapter {
	case "memory":
		st = memory.New()
	case "sqlite", "sqlite-sync=NORMAL":
		var opts *sqlite.Options // synchronous=FULL, the default
		if adapter == "sqlite-sync=NORMAL" {
			opts = &sqlite.Options{Synchronous: "NORMAL"}
		}
		db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "sety.db"), opts)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		st = db
	default:
		b.Fatalf("no adapter %q", adapter)
	}
	if err := st.AuthStore().CreateOrganization(context.Background(), &auth.Organization{ID: live.OrgID, Name: "Acme", Plan: auth.Enterprise,
		Status: auth.Active, CreatedAt: clock.At(time.Now())}); err != nil {
		b.Fatal(err)
	}
	return st
}

func percentileMs(ds []time.Duration, q float64) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[min(len(s)-1, int(q*float64(len(s))))].Microseconds()) / 1000
}

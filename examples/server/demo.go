package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/threat"
)

// Lagos, where the public docs' examples are.
var lagos = threat.Lagos

const (
	demoResponders = 40
	demoRadiusKm   = 30
)

// demoHistory is how many background incidents the demo's synthetic year
// has (the planted hot spots add 40 % more).
const demoHistory = 25_000

// loadDemo gives the oldest organization a pool of responders spread within
// 30 km of central Lagos, in its live environment (so live incidents there
// get assigned within seconds) and in its test environment (so a console
// signed in with a test key shows them too; drills never use the pool), and
// feeds the threat engine a synthetic year of incidents there (as external
// reports: they are not stored, and are fed again at every start), so every
// threat endpoint has something to show. Each pool is added once; both are
// seeded, so every demo looks the same.
func loadDemo(ctx context.Context, s *sety.Sety, log *slog.Logger) error {
	threat.LagosYear(time.Now().UTC(), demoHistory, 6).Generate(s.Threat.Add)
	s.Threat.Refresh()
	log.Info("demo: loaded a synthetic year of incidents around Lagos into threat intelligence", "incidents", s.Threat.Len())
	orgs, _, err := s.Auth.Organizations(ctx, 0, 1)
	if err != nil || len(orgs) == 0 {
		return err
	}
	for _, env := range []auth.Environment{auth.Live, auth.Test} {
		if err := loadDemoResponders(ctx, s, log, auth.Tenant{OrgID: orgs[0].ID, Env: env}); err != nil {
			return err
		}
	}
	return nil
}

// loadDemoResponders adds the demo pool to tenant's environment, unless it
// already has responders.
func loadDemoResponders(ctx context.Context, s *sety.Sety, log *slog.Logger, tenant auth.Tenant) error {
	_, total, err := s.Incidents.ListResponders(ctx, tenant, incident.ResponderFilter{Limit: 1})
	if err != nil || total > 0 {
		return err
	}
	rng := rand.New(rand.NewPCG(6, 5244))
	for i := range demoResponders {
		// Uniform over the disc: radius ~ sqrt(u).
		r := demoRadiusKm * 1000 * math.Sqrt(rng.Float64())
		theta := 2 * math.Pi * rng.Float64()
		lat := lagos.Lat() + r*math.Sin(theta)/111195
		lng := lagos.Lng() + r*math.Cos(theta)/(111195*math.Cos(lagos.Lat()*math.Pi/180))
		_, err := s.Incidents.UpsertResponder(ctx, tenant, fmt.Sprintf("rsp_demo%012d", i+1), incident.ResponderInput{
			Name:     fmt.Sprintf("Lagos Unit %02d", i+1),
			Phone:    fmt.Sprintf("+23480%08d", 30000000+i),
			Location: geo.NewPoint(lat, lng),
		})
		if err != nil {
			return err
		}
	}
	log.Info("demo: loaded a responder pool around Lagos", "org_id", tenant.OrgID, "environment", tenant.Env, "responders", demoResponders, "radius_km", demoRadiusKm)
	return nil
}

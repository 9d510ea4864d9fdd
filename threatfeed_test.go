package sety_test

import (
	"context"
	"testing"
	"time"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
)

// The threat engine follows committed events: a live incident counts; a
// drill does not; a false alarm stops counting.
func TestThreatFollowsEvents(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	s, err := sety.New(memory.New(), sety.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	org, _ := s.Auth.CreateOrganization(ctx, "Acme", auth.Growth)
	live := auth.Tenant{OrgID: org.ID, Env: auth.Live}
	req := incident.CreateIncidentRequest{Category: incident.SOS, Location: incident.Location{Coordinates: geo.NewPoint(6.4281, 3.4219)}}
	inc, _, err := s.Incidents.Create(ctx, live, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Incidents.Create(ctx, auth.Tenant{OrgID: org.ID, Env: auth.Test}, req); err != nil {
		t.Fatal(err)
	}
	if n := s.Threat.Len(); n != 1 {
		t.Fatalf("engine holds %d after a live and a test incident, want 1", n)
	}
	if _, err := s.Incidents.Cancel(ctx, live, inc.ID, "False alarm: pocket dial"); err != nil {
		t.Fatal(err)
	}
	if n := s.Threat.Len(); n != 0 {
		t.Fatalf("a false alarm still counts (%d)", n)
	}
}

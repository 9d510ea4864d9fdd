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
// drill does not; one cancelled as a false alarm or a duplicate stops
// counting.
func TestThreatFollowsEvents(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	s, err := sety.New(memory.New(), sety.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	org, _ := s.Auth.CreateOrganization(ctx, "Acme", auth.Growth)
	live := auth.Tenant{OrgID: org.ID, Env: auth.Live}
	req0 := incident.CreateIncidentRequest{Category: incident.SOS, Location: incident.Location{Coordinates: geo.NewPoint(6.4281, 3.4219)}}
	inc, _, err := s.Incidents.Create(ctx, live, req0)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Incidents.Create(ctx, auth.Tenant{OrgID: org.ID, Env: auth.Test}, req0); err != nil {
		t.Fatal(err)
	}
	if n := s.Threat.Len(); n != 1 {
		t.Fatalf("engine holds %d after a live and a test incident, want 1", n)
	}
	// The rule reads the structured code, never the free text.
	cancel := func(req incident.CancelIncidentRequest) {
		t.Helper()
		inc, _, err := s.Incidents.Create(ctx, live, incident.CreateIncidentRequest{Category: incident.SOS, Location: req0.Location})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Incidents.Cancel(ctx, live, inc.ID, req); err != nil {
			t.Fatal(err)
		}
	}
	cancel(incident.CancelIncidentRequest{Reason: "False alarm: pocket dial"})
	cancel(incident.CancelIncidentRequest{ReasonCode: incident.CancelResolvedElsewhere})
	if n := s.Threat.Len(); n != 3 {
		t.Fatalf("engine holds %d, want 3: a cancel without a no-threat code still counts", n)
	}
	cancel(incident.CancelIncidentRequest{ReasonCode: incident.CancelDuplicate})
	if _, err := s.Incidents.Cancel(ctx, live, inc.ID, incident.CancelIncidentRequest{ReasonCode: incident.CancelFalseAlarm}); err != nil {
		t.Fatal(err)
	}
	if n := s.Threat.Len(); n != 2 {
		t.Fatalf("engine holds %d, want 2: a false alarm and a duplicate do not count", n)
	}
}

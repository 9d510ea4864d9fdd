package sety_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/adapters/sqlite"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/threat"
)

// The threat engine follows committed events: a live incident counts; a
// drill does not; one cancelled as a false alarm or a duplicate, or
// resolved as a false alarm, stops counting.
func TestThreatFollowsEvents(t *testing.T) {
	t.Parallel()
	testThreatFollowsEvents(t, memory.New())
}

func testThreatFollowsEvents(t *testing.T, stores sety.Stores) {
	clk := clock.NewFake(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	s, err := sety.New(stores, sety.WithClock(clk.Now))
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
	if err := s.SyncThreat(ctx); err != nil {
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
	if err := s.SyncThreat(ctx); err != nil {
		t.Fatal(err)
	}
	if n := s.Threat.Len(); n != 3 {
		t.Fatalf("engine holds %d, want 3: a cancel without a no-threat code still counts", n)
	}
	cancel(incident.CancelIncidentRequest{ReasonCode: incident.CancelDuplicate})
	if _, err := s.Incidents.Cancel(ctx, live, inc.ID, incident.CancelIncidentRequest{ReasonCode: incident.CancelFalseAlarm}); err != nil {
		t.Fatal(err)
	}
	if err := s.SyncThreat(ctx); err != nil {
		t.Fatal(err)
	}
	if n := s.Threat.Len(); n != 2 {
		t.Fatalf("engine holds %d, want 2: a false alarm and a duplicate do not count", n)
	}
	// Resolved: counts unless the outcome says it was a false alarm.
	resolve := func(outcome incident.Outcome) {
		t.Helper()
		inc, _, err := s.Incidents.Create(ctx, live, incident.CreateIncidentRequest{Category: incident.SOS, Location: req0.Location})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Incidents.SetStatus(ctx, live, inc.ID, incident.UpdateStatusRequest{Status: incident.Resolved, Outcome: outcome}); err != nil {
			t.Fatal(err)
		}
	}
	resolve(incident.Handled)
	resolve(incident.FalseAlarm)
	if err := s.SyncThreat(ctx); err != nil {
		t.Fatal(err)
	}
	if n := s.Threat.Len(); n != 3 {
		t.Fatalf("engine holds %d, want 3: a handled incident counts, one resolved as a false alarm does not", n)
	}
}

// Two instances over one SQLite file: incidents committed through A move
// B's safety score as soon as B follows the outbox, and a restarted
// instance rebuilds the same engine from the store.
func TestThreatIsSharedAcrossInstances(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sety.db")
	testThreatIsShared(t, func() sety.Stores {
		db, err := sqlite.Open(context.Background(), path, &sqlite.Options{Synchronous: "NORMAL"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// testThreatIsShared runs the test over the handles opened by reopen on
// one database, as instances sharing it.
func testThreatIsShared(t *testing.T, reopen func() sety.Stores) {
	clk := clock.NewFake(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	open := func() *sety.Sety {
		s, err := sety.New(reopen(), sety.WithClock(clk.Now))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ctx := context.Background()
	a, b := open(), open()
	org, _ := a.Auth.CreateOrganization(ctx, "Acme", auth.Growth)
	place := geo.NewPoint(6.4281, 3.4219)
	score := func(s *sety.Sety) int {
		sc, err := s.Threat.Score(threat.ScoreQuery{Location: place})
		if err != nil {
			t.Fatal(err)
		}
		return sc.Score
	}
	if score(b) != 100 {
		t.Fatal("an empty store scores below 100")
	}
	for i := range 40 {
		p := geo.NewPoint(place.Lat()+float64(i%5)*0.0005, place.Lng()+float64(i/5)*0.0005)
		if _, _, err := a.Incidents.Create(ctx, auth.Tenant{OrgID: org.ID, Env: auth.Live},
			incident.CreateIncidentRequest{Category: incident.SOS, Location: incident.Location{Coordinates: p}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.SyncThreat(ctx); err != nil {
		t.Fatal(err)
	}
	if b.Threat.Len() != 40 || score(b) >= 100 {
		t.Fatalf("B after A's 40 incidents: %d held, score %d", b.Threat.Len(), score(b))
	}
	// A restart loads the same from the store, and following from its
	// checkpoint repeats nothing.
	c := open()
	go func() { _ = c.Run(ctxCancelled(t)) }()
	<-c.Ready()
	if err := c.SyncThreat(ctx); err != nil {
		t.Fatal(err)
	}
	b.Threat.Refresh() // scores rank against a reference rebuilt every 10 min: compare on fresh ones
	c.Threat.Refresh()
	if c.Threat.Len() != 40 || score(c) != score(b) {
		t.Fatalf("restarted instance: %d held, score %d, want 40 and %d", c.Threat.Len(), score(c), score(b))
	}
}

// ctxCancelled is a context cancelled when the test ends.
func ctxCancelled(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}

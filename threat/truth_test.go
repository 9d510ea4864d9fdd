package threat_test

import (
	"context"
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
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/threat"
)

var now = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// east and north move from Lagos by kilometres.
func at(northKm, eastKm float64) geo.Point {
	return geo.NewPoint(threat.Lagos.Lat()+northKm/111.195, threat.Lagos.Lng()+eastKm/110.4)
}

// The planted truth: three hot spots of decreasing strength in background
// noise over 20 km × 20 km, 90 days; the strongest at night.
var (
	spotA = at(-5, 5)
	spotB = at(5, -5)
	spotC = at(4, 6)
	quiet = at(-6, -6)
	truth = threat.Synthetic{
		Center: threat.Lagos, RadiusM: 12000, Background: 3000, Start: now.Add(-90 * 24 * time.Hour), End: now, Seed: 7,
		Spots: []threat.Spot{
			{Center: spotA, SigmaM: 150, Count: 240, PeakHours: []int{22, 23}},
			{Center: spotB, SigmaM: 150, Count: 140},
			{Center: spotC, SigmaM: 150, Count: 80},
		},
	}
)

type stores interface {
	IncidentStore() incident.Store
	AuthStore() auth.Store
	ThreatSource() threat.Source
}

// loadVia stores the synthetic incidents as live incidents in an adapter
// and loads an engine from the adapter's Source, as a server starts.
func loadVia(t *testing.T, st stores, syn threat.Synthetic) *threat.Engine {
	t.Helper()
	ctx := context.Background()
	org := &auth.Organization{ID: "org_0000000000000001", Name: "Truth", Plan: auth.Enterprise, Status: auth.Active, CreatedAt: clock.At(now)}
	if err := st.AuthStore().CreateOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	gen := ids.Sequential()
	syn.Generate(func(r threat.Report) {
		ts := clock.At(r.At.Truncate(time.Millisecond))
		inc := &incident.Incident{ID: gen("inc"), Category: incident.Category(r.Category), Severity: incident.Severity(r.Severity), Status: incident.Resolved,
			Location: incident.IncidentLocation{Coordinates: r.Location}, Title: "synthetic", CreatedAt: ts, UpdatedAt: ts,
			OrgID: org.ID, Environment: auth.Live, Sequence: 1, Subject: incident.Subject{Metadata: map[string]string{}}}
		ev := outbox.Event{ID: gen("evt"), OrgID: org.ID, Environment: "live", Type: incident.TypeCreated, SubjectID: inc.ID, Sequence: 1, Data: []byte(`{}`), CreatedAt: ts.Time}
		if _, _, err := st.IncidentStore().CreateIncident(ctx, inc, incident.Effects{Events: []outbox.Event{ev}}); err != nil {
			t.Fatal(err)
		}
	})
	e := threat.NewEngine(threat.Config{Now: func() time.Time { return now }})
	if _, err := e.Load(ctx, st.ThreatSource()); err != nil {
		t.Fatal(err)
	}
	return e
}

func adapters(t *testing.T) map[string]stores {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sety.db"), &sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return map[string]stores{"memory": memory.New(), "sqlite": db}
}

func TestSyntheticTruth(t *testing.T) {
	for name, st := range adapters(t) {
		t.Run(name, func(t *testing.T) {
			e := loadVia(t, st, truth)
			if got, want := e.Len(), 3000+240+140+80; got != want {
				t.Fatalf("engine holds %d reports, want %d", got, want)
			}
			t.Run("ZonesRecoverThePlantedSpotsOnly", func(t *testing.T) { zonesRecoverSpots(t, e) })
			t.Run("ScoresOrderPlacesByPlantedRisk", func(t *testing.T) { scoresOrderByRisk(t, e) })
			t.Run("HourProfileFindsThePlantedPeak", func(t *testing.T) { hourProfile(t, e) })
			t.Run("RouteThroughASpotScoresWorse", func(t *testing.T) { routeThroughSpot(t, e) })
			t.Run("HeatmapPeaksAtTheSpots", func(t *testing.T) { heatmapPeaks(t, e) })
		})
	}
}

func zonesRecoverSpots(t *testing.T, e *threat.Engine) {
	box := threat.Box{MinLng: at(0, -10).Lng(), MinLat: at(-10, 0).Lat(), MaxLng: at(0, 10).Lng(), MaxLat: at(10, 0).Lat()}
	zones, _, err := e.Zones(threat.Query{}, box, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, z := range zones {
		matched := false
		for name, spot := range map[string]geo.Point{"A": spotA, "B": spotB, "C": spotC} {
			if geo.Distance(z.Center, spot) < 400 {
				found[name], matched = true, true
			}
		}
		if !matched {
			t.Errorf("invented a zone at %v (z %.2f, %d incidents)", z.Center, z.ZScore, z.IncidentCount)
		}
		if len(z.ZoneID) != len("zone_")+16 || z.Level == "" || len(z.Polygon) < 4 || z.Polygon[0] != z.Polygon[len(z.Polygon)-1] {
			t.Errorf("zone shape: id %q level %q polygon %d points", z.ZoneID, z.Level, len(z.Polygon))
		}
	}
	if len(found) != 3 {
		t.Fatalf("recovered %v of the 3 planted spots; zones %d", found, len(zones))
	}
	if zones[0].ZScore < zones[len(zones)-1].ZScore || geo.Distance(zones[0].Center, spotA) > 400 {
		t.Errorf("the strongest zone is not first or not A: %v", zones[0].Center)
	}
}

func scoresOrderByRisk(t *testing.T, e *threat.Engine) {
	score := func(p geo.Point) int {
		s, err := e.Score(threat.ScoreQuery{Location: p})
		if err != nil {
			t.Fatal(err)
		}
		return s.Score
	}
	a, b, c, q := score(spotA), score(spotB), score(spotC), score(quiet)
	empty := score(geo.NewPoint(7.5, 4.5)) // 100 km away
	if !(a < b && b < c && c < q && q <= 100) || empty != 100 {
		t.Fatalf("scores A %d, B %d, C %d, quiet %d, empty %d: want A < B < C < quiet ≤ 100 and empty 100", a, b, c, q, empty)
	}
	if a >= 20 || q < 40 {
		t.Errorf("the worst spot scores %d (want critical, < 20), a quiet block %d (want ≥ 40)", a, q)
	}
}

func hourProfile(t *testing.T, e *threat.Engine) {
	an, err := e.Analytics(threat.AnalyticsQuery{Location: spotA, RadiusM: 300})
	if err != nil {
		t.Fatal(err)
	}
	peaks := an.TimeAnalysis.PeakHours
	if len(peaks) < 2 || !slices.Contains(peaks[:2], 22) || !slices.Contains(peaks[:2], 23) {
		t.Fatalf("peak hours %v, want 22 and 23 first", peaks)
	}
	night, _ := e.Score(threat.ScoreQuery{Location: spotB, Query: threat.Query{At: now.Add(10 * time.Hour)}})
	spotNight, _ := e.Score(threat.ScoreQuery{Location: spotA, Query: threat.Query{At: time.Date(2026, 3, 10, 22, 30, 0, 0, time.UTC)}})
	spotNoon, _ := e.Score(threat.ScoreQuery{Location: spotA, Query: threat.Query{At: time.Date(2026, 3, 10, 12, 30, 0, 0, time.UTC)}})
	if spotNight.Score > spotNoon.Score || night == nil {
		t.Fatalf("at A, 22:30 scores %d and 12:30 %d: the planted night peak should score worse", spotNight.Score, spotNoon.Score)
	}
	if an.IncidentCount < 150 || an.Trend.Direction == "" || an.Prediction.ExpectedIncidents <= 0 || len(an.DangerZones) == 0 ||
		an.Comparison.RelativeRisk <= 1 || an.SafetyScore == nil {
		t.Fatalf("analytics at A: %+v", an)
	}
}

func routeThroughSpot(t *testing.T, e *threat.Engine) {
	through := []geo.Point{at(-5, 2), spotA, at(-5, 8)}
	around := []geo.Point{at(-5, 2), at(-8, 5), at(-5, 8)}
	r1, err := e.Route(threat.RouteQuery{Path: through})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := e.Route(threat.RouteQuery{Path: around})
	if err != nil {
		t.Fatal(err)
	}
	if r1.Score >= r2.Score || len(r1.DangerZones) == 0 {
		t.Fatalf("through A scores %d (zones %v), around it %d", r1.Score, r1.DangerZones, r2.Score)
	}
	worst := r1.Segments[r1.WorstSegment]
	if geo.Distance(worst.From, spotA) > 600 && geo.Distance(worst.To, spotA) > 600 {
		t.Fatalf("the worst segment %v–%v is not at A", worst.From, worst.To)
	}
	// At night, when A is busiest, the same route scores no better.
	night, err := e.Route(threat.RouteQuery{Path: through, Query: threat.Query{At: time.Date(2026, 3, 10, 22, 30, 0, 0, time.UTC)}})
	if err != nil || night.Score > r1.Score {
		t.Fatalf("through A at 22:30 scores %v (%v), by day %d", night.Score, err, r1.Score)
	}
	// Same route as a polyline.
	r3, err := e.Route(threat.RouteQuery{Path: mustDecode(t, geo.EncodePolyline(through))})
	if err != nil || r3.Score != r1.Score {
		t.Fatalf("polyline route %v %v", r3, err)
	}
}

func mustDecode(t *testing.T, s string) []geo.Point {
	pts, err := geo.DecodePolyline(s)
	if err != nil {
		t.Fatal(err)
	}
	return pts
}

func heatmapPeaks(t *testing.T, e *threat.Engine) {
	box := threat.Box{MinLng: at(0, -10).Lng(), MinLat: at(-10, 0).Lat(), MaxLng: at(0, 10).Lng(), MaxLat: at(10, 0).Lat()}
	h, err := e.Heatmap(threat.Query{}, box, 250)
	if err != nil {
		t.Fatal(err)
	}
	var top threat.HeatmapCell
	for _, c := range h.Cells {
		if c.Intensity > top.Intensity {
			top = c
		}
	}
	inside := 0 // the planted incidents inside the box: the total counts only those
	truth.Generate(func(r threat.Report) {
		if r.At.After(now) { // a night-time incident of the last day: not yet
			return
		}
		if p := r.Location; p.Lng() >= box.MinLng && p.Lng() <= box.MaxLng && p.Lat() >= box.MinLat && p.Lat() <= box.MaxLat {
			inside++
		}
	})
	if top.Intensity != 1 || geo.Distance(geo.Point{top.Lng, top.Lat}, spotA) > 400 || h.TotalIncidents != inside {
		t.Fatalf("heatmap peak %+v, total %d, want %d", top, h.TotalIncidents, inside)
	}
}

// Adding an incident never raises a nearby score.
func TestAddingAnIncidentNeverRaisesAScore(t *testing.T) {
	e := threat.NewEngine(threat.Config{Now: func() time.Time { return now }})
	truth.Generate(e.Add)
	e.Refresh()
	points := []geo.Point{spotA, spotB, quiet, at(1, 1), at(-2, 3)}
	for i := range 200 {
		p := points[i%len(points)]
		before, _ := e.Score(threat.ScoreQuery{Location: p})
		e.Add(threat.Report{At: now.Add(-time.Duration(i) * time.Hour), Location: at(float64(i%7)/20-0.15, float64(i%5)/20-0.1), Category: threat.SOS, Severity: threat.Severities[i%4]})
		after, _ := e.Score(threat.ScoreQuery{Location: p})
		if after.Score > before.Score {
			t.Fatalf("adding incident %d raised the score at %v from %d to %d", i, p, before.Score, after.Score)
		}
	}
}

// Old incidents fade: the same incidents weigh less the older they are,
// and leave the window entirely.
func TestOldIncidentsFade(t *testing.T) {
	clk := clock.NewFake(now)
	e := threat.NewEngine(threat.Config{Now: clk.Now})
	truth.Generate(e.Add)
	recentSpot, oldSpot := at(8, 8), at(-8, 8)
	for i := range 40 {
		e.Add(threat.Report{At: now.Add(-time.Duration(i) * time.Hour), Location: recentSpot, Category: threat.SOS, Severity: threat.High})
		e.Add(threat.Report{At: now.Add(-80*24*time.Hour - time.Duration(i)*time.Hour), Location: oldSpot, Category: threat.SOS, Severity: threat.High})
	}
	e.Refresh()
	recent, _ := e.Score(threat.ScoreQuery{Location: recentSpot})
	old, _ := e.Score(threat.ScoreQuery{Location: oldSpot})
	if recent.Score >= old.Score {
		t.Fatalf("40 incidents today score %d, 40 of 80 days ago %d: old ones must weigh less", recent.Score, old.Score)
	}
	month, _ := e.Score(threat.ScoreQuery{Location: oldSpot, Query: threat.Query{Days: 30}})
	if month.IncidentCount > 5 {
		t.Fatalf("a 30-day window still counts %d of the old incidents", month.IncidentCount)
	}
	// Time passes: today's incidents age too.
	clk.Advance(60 * 24 * time.Hour)
	e.Refresh()
	later, _ := e.Score(threat.ScoreQuery{Location: recentSpot, Query: threat.Query{Days: 365}})
	if later.IncidentCount < 40 {
		t.Fatal(later.IncidentCount)
	}
}

func TestQueriesRejectBadInput(t *testing.T) {
	e := threat.NewEngine(threat.Config{Now: func() time.Time { return now }})
	checks := []error{
		func() error { _, err := e.Score(threat.ScoreQuery{Location: geo.Point{200, 0}}); return err }(),
		func() error { _, err := e.Score(threat.ScoreQuery{Location: spotA, RadiusM: 50}); return err }(),
		func() error {
			_, err := e.Score(threat.ScoreQuery{Location: spotA, Query: threat.Query{Days: 400}})
			return err
		}(),
		func() error {
			_, err := e.Heatmap(threat.Query{}, threat.Box{MinLng: 3, MinLat: 6, MaxLng: 4, MaxLat: 7}, 50)
			return err
		}(),
		func() error {
			_, _, err := e.Zones(threat.Query{}, threat.Box{MinLng: 3, MinLat: 6, MaxLng: 2, MaxLat: 7}, "", 0)
			return err
		}(),
		func() error { _, err := e.Route(threat.RouteQuery{Path: []geo.Point{spotA}}); return err }(),
		func() error {
			_, err := e.Analytics(threat.AnalyticsQuery{Location: spotA, RadiusM: 20000})
			return err
		}(),
	}
	for i, err := range checks {
		if err == nil {
			t.Errorf("check %d accepted bad input", i)
		}
	}
}

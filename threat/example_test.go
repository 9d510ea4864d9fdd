package threat_test

import (
	"fmt"
	"math"
	"time"

	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/threat"
)

// Scoring places from a history of reports.
func ExampleEngine_Score() {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	e := threat.NewEngine(threat.Config{Now: func() time.Time { return now }})
	// A quiet neighbourhood, and one corner with trouble every night.
	for i := range 200 {
		e.Add(threat.Report{At: now.Add(-time.Duration(i) * 11 * time.Hour), Location: geo.NewPoint(6.50+float64(i%20)/200, 3.37+float64(i/20)/200),
			Category: threat.SOS, Severity: threat.Low})
	}
	corner := geo.NewPoint(6.4281, 3.4219)
	for i := range 60 {
		e.Add(threat.Report{At: now.Add(-time.Duration(i) * 24 * time.Hour), Location: corner, Category: threat.Vehicle, Severity: threat.Critical})
	}
	e.Refresh()
	// The corner, a spot of the neighbourhood, and a place with no history.
	for _, p := range []geo.Point{corner, geo.NewPoint(6.55, 3.40), geo.NewPoint(7.5, 4.5)} {
		s, _ := e.Score(threat.ScoreQuery{Location: p})
		fmt.Println(s.Level, s.IncidentCount)
	}
	// Output:
	// critical 60
	// safe 1
	// safe 0
}

// Danger zones of a box across the antimeridian (minLng > maxLng), as
// GeoJSON for a GIS: the zone astride ±180 is one zone, cut into a
// MultiPolygon there.
func ExampleDangerZonesResponse_GeoJSON() {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	e := threat.NewEngine(threat.Config{Now: func() time.Time { return now }})
	for i := range 2000 { // a background over 20 × 20 km, Fiji's latitude
		lng := math.Remainder(179.9+float64(i*37%200)/1000, 360)
		e.Add(threat.Report{At: now.Add(-time.Duration(i) * time.Hour), Location: geo.NewPoint(-16.6+float64(i*53%200)/1000, lng),
			Category: threat.SOS, Severity: threat.Medium})
	}
	for i := range 60 { // and a cluster on the seam
		lng := math.Remainder(179.999+float64(i%5)/2000, 360)
		e.Add(threat.Report{At: now.Add(-time.Duration(i) * 24 * time.Hour), Location: geo.NewPoint(-16.5+float64(i/12)/2000, lng),
			Category: threat.Vehicle, Severity: threat.High})
	}
	zones, w, _ := e.Zones(threat.Query{}, threat.Box{MinLng: 179.9, MinLat: -16.6, MaxLng: -179.9, MaxLat: -16.4}, "", 0)
	fc := threat.DangerZonesResponse{Zones: zones, Window: w}.GeoJSON()
	for _, f := range fc.Features {
		fmt.Println(f.Properties.Level, f.Geometry.Type, f.Properties.IncidentCount > 60)
	}
	// Output:
	// critical MultiPolygon true
}

package threatapi_test

import (
	"time"

	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/threat"
)

// The planted truth of threat's own tests (truth_test.go there): three hot
// spots of decreasing strength in background noise over 20 km × 20 km, 90
// days; the strongest at night.
var (
	now   = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	spotA = at(-5, 5)
	spotB = at(5, -5)
	spotC = at(4, 6)
	truth = threat.Synthetic{
		Center: threat.Lagos, RadiusM: 12000, Background: 3000, Start: now.Add(-90 * 24 * time.Hour), End: now, Seed: 7,
		Spots: []threat.Spot{
			{Center: spotA, SigmaM: 150, Count: 240, PeakHours: []int{22, 23}},
			{Center: spotB, SigmaM: 150, Count: 140},
			{Center: spotC, SigmaM: 150, Count: 80},
		},
	}
)

// at moves from Lagos by kilometres.
func at(northKm, eastKm float64) geo.Point {
	return geo.NewPoint(threat.Lagos.Lat()+northKm/111.195, threat.Lagos.Lng()+eastKm/110.4)
}

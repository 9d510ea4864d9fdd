package threat_test

import (
	"fmt"
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

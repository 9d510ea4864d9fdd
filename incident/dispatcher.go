package incident

import (
	"context"
	"math"

	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/internal/clone"
)

// DefaultSpeedKmh is the travel speed ETAs are computed at unless the
// built-in dispatcher is given another: a city average.
const DefaultSpeedKmh = 30.0

// NearestDispatcher is the built-in Dispatcher: the tenant's nearest
// available responders by great-circle distance (ties to the one idle
// longest), with an ETA from distance at a constant speed.
type NearestDispatcher struct {
	Responders ResponderStore
	// SpeedKmh turns distance into ETA. Default 30 km/h, a city average.
	SpeedKmh float64
	// Candidates is how many to rank, so a responder taken meanwhile has a
	// runner-up. Default 5.
	Candidates int
	// Within is how far from an incident to look (the dispatch range);
	// nil: at any distance.
	Within func(*Incident) float64
}

// Rank returns the nearest available responders to inc, nearest first.
func (d *NearestDispatcher) Rank(ctx context.Context, inc *Incident) ([]ResponderAssignment, error) {
	speed, n := d.SpeedKmh, d.Candidates
	if speed <= 0 {
		speed = DefaultSpeedKmh
	}
	if n <= 0 {
		n = 5
	}
	var within float64
	if d.Within != nil {
		within = d.Within(inc)
	}
	near, err := d.Responders.NearestAvailable(ctx, inc.Tenant(), inc.Location.Coordinates, n, within)
	if err != nil {
		return nil, err
	}
	out := make([]ResponderAssignment, 0, len(near))
	for _, r := range near {
		dist := geo.Distance(r.Location, inc.Location.Coordinates)
		out = append(out, ResponderAssignment{
			ResponderID:    r.ID,
			Name:           r.Name,
			Phone:          clone.Ptr(r.Phone),
			Location:       r.Location,
			DistanceMeters: math.Round(dist),
			ETASeconds:     math.Round(dist / (speed / 3.6)),
		})
	}
	return out, nil
}

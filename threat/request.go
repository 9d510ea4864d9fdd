package threat

import (
	"time"

	"github.com/sety-io/sety/geo"
)

// What the HTTP operations (threatapi) need to read a request as the
// engine does.

// CheckPoint names lat or lng, whichever is out of range (setyerr.Invalid).
func CheckPoint(p geo.Point) error { return checkPoint(p) }

// BoxAround is the smallest box that holds every point within r metres
// (great-circle) of p: across the antimeridian where the circle crosses
// it, every longitude where it holds a pole.
func BoxAround(p geo.Point, r float64) Box { return boxAround(p, r) }

// Now is the time by the engine's clock (Config.Now).
func (e *Engine) Now() time.Time { return e.now() }

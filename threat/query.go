package threat

import (
	"math"
	"slices"
	"time"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/setyerr"
)

// Window is the time frame of every answer.
type Window struct {
	From clock.Time `json:"from" doc:"Start of the window (now minus days)."`
	To   clock.Time `json:"to" doc:"End of the window (now)."`
}

// Query is what every operation starts from: the window of days before
// now, and an optional category.
type Query struct {
	Days     int       // 1–365; default 90
	Category Category  // "" for all
	At       time.Time // the moment the answer is for; zero: now
}

func (e *Engine) window(q Query) (window, error) {
	if q.Days == 0 {
		q.Days = 90
	}
	if q.Days < 1 || q.Days > 365 {
		return window{}, setyerr.Invalidf("days", "must be between 1 and 365")
	}
	if q.Category != "" && !q.Category.Valid() {
		return window{}, setyerr.Invalidf("category", "must be one of sos, vehicle, location_threat, medical")
	}
	return newWindow(e.now().UTC(), q.Days, e.cfg.HalfLife, q.Category), nil
}

func (w *window) wire() Window {
	return Window{From: clock.At(w.from.Truncate(time.Millisecond)), To: clock.At(w.to.Truncate(time.Millisecond))}
}

// near lists the populated cells whose centers lie within radius of p,
// with their distance; callers hold e.mu.
func (e *Engine) near(p geo.Point, radius float64, fn func(k cellKey, c *cell, d float64)) {
	dLat := radius/metersPerDegree + e.g.deg
	cos := math.Max(math.Cos(p.Lat()*math.Pi/180), 0.01)
	dLng := dLat / cos
	x0, y0, x1, y1 := e.g.span(p.Lng()-dLng, p.Lat()-dLat, p.Lng()+dLng, p.Lat()+dLat)
	if int64(x1-x0+1)*int64(y1-y0+1) > 4*int64(len(e.cell))+64 {
		// A huge radius: walking the populated cells beats walking the box.
		for k, c := range e.cell {
			if d := geo.Distance(p, e.g.center(k)); d <= radius {
				fn(k, c, d)
			}
		}
		return
	}
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			k := keyOf(x, y)
			c := e.cell[k]
			if c == nil {
				continue
			}
			if d := geo.Distance(p, e.g.center(k)); d <= radius {
				fn(k, c, d)
			}
		}
	}
}

// density is the decayed weight per km² within radius of p.
func (e *Engine) density(w *window, p geo.Point, radius float64) (float64, int) {
	var sum float64
	n := 0
	e.near(p, radius, func(_ cellKey, c *cell, _ float64) {
		ws, ns := w.weight(c)
		sum += ws
		n += ns
	})
	return sum / areaKm2(radius), n
}

func areaKm2(radius float64) float64 { return math.Pi * radius * radius / 1e6 }

// reference is the network-wide distribution scores rank against: the
// density around every populated cell, sorted, at the moment it was built.
type reference struct {
	built     time.Time
	densities []float64
}

// refresh returns the current reference, rebuilding it when it is older
// than RefreshEvery. Between rebuilds scores are ranked against a fixed
// distribution, which is what makes a score never rise when an incident
// is added nearby.
func (e *Engine) reference() *reference {
	e.refMu.Lock()
	defer e.refMu.Unlock()
	now := e.now()
	if e.ref != nil && now.Sub(e.ref.built) < e.cfg.RefreshEvery {
		return e.ref
	}
	w := newWindow(now.UTC(), 90, e.cfg.HalfLife, "")
	e.mu.RLock()
	ds := make([]float64, 0, len(e.cell))
	for k := range e.cell {
		if d, _ := e.density(&w, e.g.center(k), e.cfg.ScoreRadiusM); d > 0 {
			ds = append(ds, d)
		}
	}
	e.mu.RUnlock()
	slices.Sort(ds)
	e.ref = &reference{built: now, densities: ds}
	return e.ref
}

// Refresh rebuilds the reference distribution now.
func (e *Engine) Refresh() {
	e.refMu.Lock()
	e.ref = nil
	e.refMu.Unlock()
	e.reference()
}

// rank is the share of the reference below density d, in [0, 1],
// interpolated between neighbours so scores move smoothly.
func (r *reference) rank(d float64) float64 {
	n := len(r.densities)
	if d <= 0 || n == 0 {
		return 0
	}
	i, _ := slices.BinarySearch(r.densities, d)
	if i == 0 {
		return 0.5 * d / r.densities[0] / float64(n)
	}
	if i == n {
		return 1
	}
	lo, hi := r.densities[i-1], r.densities[i]
	frac := 0.0
	if hi > lo {
		frac = (d - lo) / (hi - lo)
	}
	return (float64(i-1) + 0.5 + frac) / float64(n)
}

// scoreOf maps a density d to 0–100 (100 safest, exactly 100 without any
// weight): 100 × (1 − (F(d) + L(d)) / 2), where F is d's percentile in the
// reference and L = ln(1 + d/m) / ln(1 + 2·max/m) (clamped to 1) places d on
// a log scale between the reference median m and twice its maximum. F
// spreads the ordinary blocks of a city over the range; L keeps its worst
// ones apart, where F is nearly 1 for all of them. Both only grow with d,
// so a score never rises when weight is added.
func (r *reference) scoreOf(d float64) int {
	if d <= 0 {
		return 100
	}
	l := 1.0
	if n := len(r.densities); n > 0 {
		m, top := r.densities[n/2], r.densities[n-1]
		l = math.Min(1, math.Log1p(d/m)/math.Log1p(2*top/m))
	}
	return int(math.Floor(100 * (1 - (r.rank(d)+l)/2)))
}

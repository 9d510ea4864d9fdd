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

// tally is what a region holds in a window.
type tally struct {
	w      float64 // decayed severity weight
	n      int     // incidents
	cats   [4]int  // incidents by category, with detail
	recent int     // incidents at or after recentFrom
	hours  [24]int // by UTC hour, with detail
}

// gather adds up the region's records in the window. Cells wholly inside
// answer from their running totals unless hours or categories are asked
// for (they have no totals); cells across the edge record by record. With
// recentFrom > 0, recent counts the records since then. Callers hold e.mu.
func (e *Engine) gather(w *window, rg region, t *tally, detail bool, recentFrom int64) {
	e.visit(w, rg, func(c *cell, i, j int, all bool) {
		if all && !detail && !w.hasFilter {
			s, n := w.sum(c, i, j)
			t.w += s
			t.n += n
			if recentFrom > 0 {
				t.recent += j - since(c, i, recentFrom)
			}
			return
		}
		for k := i; k < j; k++ {
			r := &c.recs[k]
			if !w.catMask[r.cat] || !all && !e.inside(rg, c, k) {
				continue
			}
			t.w += w.weightOf(c, k)
			t.n++
			t.cats[r.cat]++
			if recentFrom > 0 && int64(r.t) >= recentFrom {
				t.recent++
			}
			t.hours[hourOf(r)]++
		}
	})
}

// density is the decayed weight per km² within radius of p, and the count.
func (e *Engine) density(w *window, p geo.Point, radius float64) (float64, int) {
	var t tally
	e.gather(w, newCircle(p, radius), &t, false, 0)
	return t.w / areaKm2(radius), t.n
}

func areaKm2(radius float64) float64 { return math.Pi * radius * radius / 1e6 }

// reference is the network-wide distribution scores rank against: the
// density around every populated cell, sorted, at the moment it was built.
type reference struct {
	built     time.Time
	densities []float64
	// Every sampleEvery-th density: a rank's search narrows to a stretch
	// of the densities in this short table (a route ranks hundreds of
	// segments, and each search of the whole missed the cache at every
	// step).
	samples []float64
	logTop  float64 // ln(1 + 2·max/median), scoreOf's scale
}

const sampleEvery = 64

func newReference(built time.Time, ds []float64) *reference {
	r := &reference{built: built, densities: ds}
	for k := 0; k < len(ds); k += sampleEvery {
		r.samples = append(r.samples, ds[k])
	}
	if n := len(ds); n > 0 {
		r.logTop = math.Log1p(2 * ds[n-1] / ds[n/2])
	}
	return r
}

// search is slices.BinarySearch(r.densities, d)'s index: the first
// density at or above d. The first sample at or above d, k, bounds it:
// densities[(k−1)·sampleEvery] < d ≤ densities[k·sampleEvery].
func (r *reference) search(d float64) int {
	k := firstAtLeast(r.samples, d)
	lo, hi := max(0, (k-1)*sampleEvery+1), min(len(r.densities), k*sampleEvery)
	return lo + firstAtLeast(r.densities[lo:hi], d)
}

// firstAtLeast is slices.BinarySearch(xs, d)'s index for xs without NaN:
// the first element at or above d (0 for a NaN d, as there). It compares
// with < alone: the generic search's NaN-aware comparison was a fifth of
// a route's scoring. Each halving moves base by a mask, not a branch:
// which half holds d is a coin toss the processor mispredicts.
func firstAtLeast(xs []float64, d float64) int {
	n := len(xs)
	if n == 0 {
		return 0
	}
	base := 0 // xs[i] < d for every i < base
	for n > 1 {
		half := n / 2
		base += half & -b2i(xs[base+half] < d)
		n -= half
	}
	if xs[base] < d {
		base++
	}
	return base
}

// refresh returns the current reference, rebuilding it when it is older
// than RefreshEvery. Between rebuilds scores are ranked against a fixed
// distribution, which is what makes a score never rise when an incident
// is added nearby.
func (e *Engine) reference() *reference {
	e.refMu.Lock()
	defer e.refMu.Unlock()
	now := e.now()
	if e.refD != nil && now.Sub(e.refD.built) < e.cfg.RefreshEvery {
		return e.refD
	}
	w := newWindow(now.UTC(), 90, e.cfg.HalfLife, "")
	e.rlock(&w)
	ds := make([]float64, 0, e.cells)
	for _, r := range e.rows.all() {
		for i := range r.cells {
			c := &r.cells[i]
			if d, _ := e.density(&w, e.g.center(keyOf(c.x, c.y)), e.cfg.ScoreRadiusM); d > 0 {
				ds = append(ds, d)
			}
		}
	}
	e.mu.RUnlock()
	slices.Sort(ds)
	e.refD = newReference(now, ds)
	return e.refD
}

// Refresh rebuilds the reference distribution now.
func (e *Engine) Refresh() {
	e.refMu.Lock()
	e.refD = nil
	e.refMu.Unlock()
	e.reference()
}

// rank is the share of the reference below density d, in [0, 1],
// interpolated between neighbours so scores move smoothly.
func (r *reference) rank(d float64) float64 {
	if d <= 0 || len(r.densities) == 0 {
		return 0
	}
	return r.rankAt(d, r.search(d))
}

// rankAt is rank(d) for d > 0 from i = search(d).
func (r *reference) rankAt(d float64, i int) float64 {
	n := len(r.densities)
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
	if d <= 0 || len(r.densities) == 0 {
		return r.scoreAt(d, 0)
	}
	return r.scoreAt(d, r.search(d))
}

// scoreAt is scoreOf(d) for d's rank i = search(d).
func (r *reference) scoreAt(d float64, i int) int {
	if d <= 0 {
		return 100
	}
	n := len(r.densities)
	if n == 0 { // no reference: rank 0, L 1
		return 50
	}
	l := math.Min(1, math.Log1p(d/r.densities[n/2])/r.logTop)
	return int(math.Floor(100 * (1 - (r.rankAt(d, i)+l)/2)))
}

// searchAll sets at[k] to search(ds[k]) for every k; left is scratch of
// the same length. Its binary searches go level by level side by side
// rather than one after another: the reads of one level are independent
// of one another, so the processor has them all under way at once, where
// a search alone waits for each read in turn. A route ranks its segments
// in densities that other work has mostly evicted from the cache.
func (r *reference) searchAll(ds []float64, at, left []int) {
	for k := range ds {
		at[k], left[k] = 0, len(r.samples)
	}
	firstAtLeastAll(r.samples, ds, at, left)
	for k, i := range at {
		lo, hi := max(0, (i-1)*sampleEvery+1), min(len(r.densities), i*sampleEvery)
		at[k], left[k] = lo, hi-lo
	}
	firstAtLeastAll(r.densities, ds, at, left)
}

// firstAtLeastAll runs firstAtLeast for many searches at once, level by
// level: search k looks for ds[k] in xs[base[k] : base[k]+n[k]] and leaves
// base[k] at its answer's index in xs (n is used up).
func firstAtLeastAll(xs, ds []float64, base, n []int) {
	for more := true; more; {
		more = false
		for k, m := range n {
			if m > 1 {
				half := m / 2
				base[k] += half & -b2i(xs[base[k]+half] < ds[k])
				n[k] = m - half
				more = more || m-half > 1
			}
		}
	}
	for k, m := range n {
		if m > 0 && xs[base[k]] < ds[k] {
			base[k]++
		}
	}
}

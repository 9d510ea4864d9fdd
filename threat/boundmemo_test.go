package threat

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/sety-io/sety/geo"
)

// A cell's memo answers exactly what the search finds, for every window
// start in and around its records (duplicate times too), and a change to
// the cell forgets it.
func TestBoundMemoAnswersAsTheSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 70))
	search := func(c *cell, t0 uint32) (int, float64) {
		i := 0
		for i < len(c.recs) && c.recs[i].t < t0 {
			i++
		}
		return i, c.cumAt(i).w
	}
	for range 3000 {
		var c cell
		n := rng.IntN(60)
		for range n {
			c.recs = append(c.recs, entry{rec: rec{t: uint32(10 + rng.IntN(50)), sev: uint8(rng.IntN(4))}})
		}
		c.rebuild(0, 3600)
		mark := uint32(rng.IntN(70))
		c.remember(mark)
		for t0 := uint32(0); t0 <= 70; t0++ {
			i, w := c.bound(t0)
			wi, ww := search(&c, t0)
			if i != wi || w != ww {
				t.Fatalf("records %v, memo for %d, start %d: %d %v, search %d %v", c.ts, mark, t0, i, w, wi, ww)
			}
		}
		c.insert(0, entry{rec: rec{t: 5, sev: 3}}, 0, 3600) // forgets the memo
		for t0 := uint32(0); t0 <= 70; t0++ {
			i, w := c.bound(t0)
			wi, ww := search(&c, t0)
			if i != wi || w != ww {
				t.Fatalf("after an insert, start %d: %d %v, search %d %v", t0, i, w, wi, ww)
			}
		}
	}
}

// An engine whose clock moves on, so that its memos answer some cells
// and not others (and are made again each hour), answers every query as
// an engine built at that moment, whose memos answer every cell.
func TestMovingWindowAnswersAsAFreshEngine(t *testing.T) {
	var base []Report
	LagosYear(exactNow, 20_000, 5).Generate(func(r Report) { base = append(base, r) })
	rng := rand.New(rand.NewPCG(5, 27))
	start := exactNow.Add(-memoDays * 24 * time.Hour)
	for range 5000 { // records that leave the window while the clock moves
		base = append(base, Report{At: start.Add(time.Duration(rng.IntN(5*3600)) * time.Second), Location: lagosAt(rng.Float64()*16-8, rng.Float64()*16-8),
			Category: Categories[rng.IntN(4)], Severity: Severities[rng.IntN(4)]})
	}
	now := exactNow
	moving := NewEngine(Config{Now: func() time.Time { return now }})
	for _, r := range base {
		moving.Add(r)
	}
	box := Box{MinLng: lagosAt(0, -8).Lng(), MinLat: lagosAt(-8, 0).Lat(), MaxLng: lagosAt(0, 8).Lng(), MaxLat: lagosAt(8, 0).Lat()}
	route := []geo.Point{lagosAt(-6, -7), lagosAt(1, 0), lagosAt(5, 8)}
	var added []Report
	for step := range 10 {
		now = exactNow.Add(time.Duration(step) * 25 * time.Minute)
		for range 30 { // a few arrivals, some late
			r := Report{At: now.Add(-time.Duration(rng.IntN(3*86400)) * time.Second), Location: lagosAt(rng.Float64()*16-8, rng.Float64()*16-8),
				Category: Categories[rng.IntN(4)], Severity: Severities[rng.IntN(4)]}
			added = append(added, r)
			moving.Add(r)
		}
		fresh := NewEngine(Config{Now: func() time.Time { return now }})
		for _, r := range slices.Concat(base, added) {
			fresh.Add(r)
		}
		for _, e := range []*Engine{moving, fresh} {
			e.Refresh()
		}
		ask := func(e *Engine) []any {
			rt, err1 := e.Route(RouteQuery{Path: route})
			zs, _, err2 := e.Zones(Query{}, box, "", 0)
			hm, err3 := e.Heatmap(Query{}, box, 500)
			sc, err4 := e.Score(ScoreQuery{Location: lagosAt(1, 1)})
			return []any{rt, zs, hm, sc, err1, err2, err3, err4}
		}
		if got, want := ask(moving), ask(fresh); !reflect.DeepEqual(got, want) {
			t.Fatalf("step %d (%v on): the engine whose window moved answers otherwise than a fresh one", step, now.Sub(exactNow))
		}
	}
}

// The reference's narrowed search, and its searches side by side (as a
// route ranks its segments), find what a search of all densities finds,
// around every sample boundary, with repeated densities, and for NaN and
// the infinities.
func TestReferenceSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(64, 27))
	for n := range 300 {
		ds := make([]float64, n)
		for i := range ds {
			ds[i] = float64(rng.IntN(n/3 + 1))
		}
		slices.Sort(ds)
		r := newReference(exactNow, ds)
		probes := []float64{math.NaN(), math.Inf(1), math.Inf(-1)}
		for d := -1.0; d <= float64(n/3+2); d += 0.5 {
			probes = append(probes, d)
		}
		rng.Shuffle(len(probes), func(i, j int) { probes[i], probes[j] = probes[j], probes[i] })
		at, left := make([]int, len(probes)), make([]int, len(probes))
		r.searchAll(probes, at, left)
		for k, d := range probes {
			want, _ := slices.BinarySearch(ds, d)
			if got := r.search(d); got != want {
				t.Fatalf("%d densities, %v: %d, want %d", n, d, got, want)
			}
			if at[k] != want {
				t.Fatalf("%d densities, %v among %d searches side by side: %d, want %d", n, d, len(probes), at[k], want)
			}
		}
	}
}

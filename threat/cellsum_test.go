package threat

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sety-io/sety/geo"
)

// A row's sums stay what its cells give, and answer every window they
// claim to exactly as the cells do: after ingest in and out of time order,
// removals (some emptying cells), re-ingest, a clock that moves on, and
// reports from ahead of the clock (whose cells answer no window ending
// before them); around Lagos, across the antimeridian and at the pole.
func TestCellSumsAnswerAsTheirCells(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 27))
	now := exactNow
	e := NewEngine(Config{Now: func() time.Time { return now }})
	places := []func() geo.Point{
		func() geo.Point { return lagosAt(rng.Float64()*4-2, rng.Float64()*4-2) },
		func() geo.Point { return geo.Point{179.99 + rng.Float64()*0.01, 10 + rng.Float64()*0.02} },
		func() geo.Point { return geo.Point{-180 + rng.Float64()*0.01, 10 + rng.Float64()*0.02} },
		func() geo.Point { return geo.Point{rng.Float64()*360 - 180, 89.999 + rng.Float64()*0.001} },
	}
	report := func(maxAge time.Duration) Report {
		return Report{At: now.Add(-time.Duration(rng.Int64N(int64(maxAge)))), Location: places[rng.IntN(len(places))](),
			Category: Categories[rng.IntN(4)], Severity: Severities[rng.IntN(4)]}
	}
	check := func(phase string, wantCells bool) {
		t.Helper()
		ws := []window{newWindow(now, memoDays, e.cfg.HalfLife, ""), newWindow(now, 7, e.cfg.HalfLife, ""),
			newWindow(now, 365, e.cfg.HalfLife, ""), newWindow(now.Add(-40*24*time.Hour), memoDays, e.cfg.HalfLife, "")}
		e.rlock(&ws[0], &ws[1], &ws[2], &ws[3])
		defer e.mu.RUnlock()
		cells, answered := 0, 0
		for y, r := range e.rows.all() {
			if len(r.sums) != len(r.cells) || len(r.tails) != len(r.cells) || len(r.xs) != len(r.cells) {
				t.Fatalf("%s: row %d has %d sums and %d tails for %d cells", phase, y, len(r.sums), len(r.tails), len(r.cells))
			}
			for i := range r.cells {
				c, s, tail := &r.cells[i], &r.sums[i], &r.tails[i]
				cells++
				if r.xs[i] != c.x || c.y != y {
					// pack lays rows side by side in one array: a row that
					// grew must not have written over the next one's.
					t.Fatalf("%s: row %d lists column %d for cell (%d, %d)", phase, y, r.xs[i], c.x, c.y)
				}
				if sw, st := c.sum(); *s != sw || *tail != st {
					t.Fatalf("%s: cell (%d, %d): sum %+v %+v, the cell's %+v %+v", phase, c.x, c.y, *s, *tail, sw, st)
				}
				for k := range ws {
					w := &ws[k]
					if !r.answers(i, w) {
						continue
					}
					answered++
					x, n := w.weight(c)
					if s.w*w.scale != x || int(tail.n) != n {
						t.Fatalf("%s: cell (%d, %d), window %d: sum %v %d, the cell %v %d", phase, c.x, c.y, k, s.w*w.scale, tail.n, x, n)
					}
				}
				if !r.answers(i, &ws[0]) && int64(c.last) <= now.Unix() {
					t.Fatalf("%s: cell (%d, %d): its sum does not answer the default window it was made for", phase, c.x, c.y)
				}
			}
		}
		if wantCells && (cells == 0 || answered <= cells) {
			t.Fatalf("%s: %d cells, %d answers: nothing tested beyond the default window", phase, cells, answered)
		}
	}
	var kept []Report
	for range 3000 {
		r := report(200 * 24 * time.Hour) // out of time order
		kept = append(kept, r)
		e.Add(r)
	}
	check("ingest", true)
	for range 20 { // in time order, between queries
		now = now.Add(time.Minute)
		r := report(time.Minute)
		kept = append(kept, r)
		e.Add(r)
	}
	check("arrivals", true)
	for range 30 { // ahead of the clock: from a minute to three days
		r := report(time.Minute)
		r.At = r.At.Add(time.Duration(rng.Int64N(int64(3 * 24 * time.Hour))))
		kept = append(kept, r)
		e.Add(r)
	}
	check("ahead", true)
	now = now.Add(2 * 24 * time.Hour) // past some of them
	check("caught up", true)
	rng.Shuffle(len(kept), func(i, j int) { kept[i], kept[j] = kept[j], kept[i] })
	for _, r := range kept[:2500] {
		e.Remove(r)
	}
	check("removal", true)
	for _, r := range kept[1000:] {
		e.Remove(r) // the rest, and some already gone
	}
	check("all removed", false)
	if e.Len() != 0 {
		t.Fatalf("%d records left", e.Len())
	}
	for _, r := range kept {
		e.Add(r)
	}
	now = now.Add(3 * time.Hour) // the memos are made again
	check("re-ingest", true)
}

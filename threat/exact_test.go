package threat

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sety-io/sety/geo"
)

// The exact reference: every figure the engine answers from its grid,
// computed here by brute force over the reports themselves, with formulas
// written independently of the engine's (haversine, and bearings for the
// distance to a great-circle segment).

var exactNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

type brute struct {
	reports  []Report
	now      time.Time
	halfLife time.Duration
}

func (b *brute) weight(r Report) float64 {
	age := b.now.Sub(r.At).Seconds()
	return r.Severity.Weight() * math.Exp2(-age/b.halfLife.Seconds())
}

func (b *brute) inWindow(r Report, days int) bool {
	from := b.now.Add(-time.Duration(days) * 24 * time.Hour)
	return !r.At.Before(from) && !r.At.After(b.now)
}

// circle counts and weighs the reports within radius of p.
func (b *brute) circle(p geo.Point, radius float64, days int) (int, float64) {
	n, w := 0, 0.0
	for _, r := range b.reports {
		if b.inWindow(r, days) && geo.Distance(p, r.Location) <= radius {
			n++
			w += b.weight(r)
		}
	}
	return n, w
}

// segmentDistance is the distance from p to the great-circle segment ab:
// cross-track where p's foot lies between a and b, else to the nearer end.
func segmentDistance(p, a, b geo.Point) float64 {
	const R = geo.EarthRadiusMeters
	bearing := func(x, y geo.Point) float64 {
		φ1, φ2, Δλ := x.Lat()*math.Pi/180, y.Lat()*math.Pi/180, (y.Lng()-x.Lng())*math.Pi/180
		return math.Atan2(math.Sin(Δλ)*math.Cos(φ2), math.Cos(φ1)*math.Sin(φ2)-math.Sin(φ1)*math.Cos(φ2)*math.Cos(Δλ))
	}
	dap, dab := geo.Distance(a, p), geo.Distance(a, b)
	ends := math.Min(dap, geo.Distance(b, p))
	if dab == 0 {
		return ends
	}
	δ13, Δθ := dap/R, bearing(a, p)-bearing(a, b)
	along := math.Atan2(math.Sin(δ13)*math.Cos(Δθ), math.Cos(δ13)) * R
	if along < 0 || along > dab {
		return ends
	}
	return math.Abs(math.Asin(math.Sin(δ13)*math.Sin(Δθ))) * R
}

func (b *brute) corridor(a, c geo.Point, buffer float64, days int) (int, float64) {
	n, w := 0, 0.0
	for _, r := range b.reports {
		if b.inWindow(r, days) && segmentDistance(r.Location, a, c) <= buffer {
			n++
			w += b.weight(r)
		}
	}
	return n, w
}

// randomReports scatters n reports around centre: half uniform over a
// square of side km, half in a few tight clusters; whole-second times over
// 400 days before now (some outside every window) and a few after it.
func randomReports(seed uint64, n int, centre geo.Point, km float64) []Report {
	rng := rand.New(rand.NewPCG(seed, 1))
	cos := math.Cos(centre.Lat() * math.Pi / 180)
	offset := func(dx, dy float64) geo.Point {
		return geo.Point{math.Remainder(centre.Lng()+dx/(metersPerDegree*cos), 360), math.Max(-90, math.Min(90, centre.Lat()+dy/metersPerDegree))}
	}
	var clusters []geo.Point
	for range 6 {
		clusters = append(clusters, offset((rng.Float64()-0.5)*km*800, (rng.Float64()-0.5)*km*800))
	}
	out := make([]Report, 0, n)
	for i := range n {
		var p geo.Point
		if i%2 == 0 {
			p = offset((rng.Float64()-0.5)*km*1000, (rng.Float64()-0.5)*km*1000)
		} else {
			c := clusters[rng.IntN(len(clusters))]
			p = geo.Point{math.Remainder(c.Lng()+rng.NormFloat64()*0.002/cos, 360), math.Max(-90, math.Min(90, c.Lat()+rng.NormFloat64()*0.002))}
		}
		at := exactNow.Add(-time.Duration(rng.Int64N(400*86400)) * time.Second)
		if i%97 == 0 {
			at = exactNow.Add(time.Duration(rng.Int64N(86400)) * time.Second)
		}
		out = append(out, Report{At: at, Location: p, Category: Categories[rng.IntN(4)], Severity: Severities[rng.IntN(4)]})
	}
	return out
}

func loadExact(t testing.TB, reports []Report) (*Engine, *brute) {
	t.Helper()
	e := NewEngine(Config{Now: func() time.Time { return exactNow }})
	for _, r := range reports {
		e.Add(r)
	}
	return e, &brute{reports: reports, now: exactNow, halfLife: e.cfg.HalfLife}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// The places of the exact tests: around Lagos, across the antimeridian and
// near the north pole.
var exactPlaces = []struct {
	name   string
	centre geo.Point
}{
	{"lagos", Lagos},
	{"antimeridian", geo.NewPoint(-16.5, 180)},
	{"pole", geo.NewPoint(89.95, 20)},
}

func TestCircleMatchesBruteForce(t *testing.T) {
	for _, pl := range exactPlaces {
		t.Run(pl.name, func(t *testing.T) {
			e, b := loadExact(t, randomReports(3, 20000, pl.centre, 12))
			rng := rand.New(rand.NewPCG(4, 4))
			for i := range 150 {
				p := randomNear(rng, pl.centre, 6000)
				radius := 100 + rng.Float64()*4000
				days := []int{1, 7, 30, 90, 365}[i%5]
				w := e.mustWindow(t, days)
				e.rlock(&w)
				var got tally
				e.gather(&w, newCircle(p, radius), &got, false, 0)
				e.mu.RUnlock()
				n, wt := b.circle(p, radius, days)
				if got.n != n || !near(got.w, wt) {
					t.Fatalf("%v r %.0f m, %d days: engine %d incidents weighing %.9f, exact %d weighing %.9f", p, radius, days, got.n, got.w, n, wt)
				}
			}
		})
	}
}

func TestCorridorMatchesBruteForce(t *testing.T) {
	for _, pl := range exactPlaces {
		t.Run(pl.name, func(t *testing.T) {
			e, b := loadExact(t, randomReports(5, 8000, pl.centre, 8))
			rng := rand.New(rand.NewPCG(6, 6))
			for i := range 12 {
				path := []geo.Point{randomNear(rng, pl.centre, 2000), randomNear(rng, pl.centre, 2000), randomNear(rng, pl.centre, 2000)}
				buffer := 25 + rng.Float64()*975
				days := []int{7, 30, 90, 365}[i%4]
				route, err := e.Route(RouteQuery{Path: path, BufferM: buffer, Query: Query{Days: days}})
				if err != nil {
					t.Fatal(err)
				}
				w := e.mustWindow(t, days)
				e.rlock(&w)
				for _, s := range route.Segments {
					if d := geo.Distance(s.From, s.To); d > maxSegmentM+1e-6 {
						t.Fatalf("segment %d is %.1f m long", s.Index, d)
					}
					var got tally
					e.gather(&w, newCorridor(s.From, s.To, buffer), &got, false, 0)
					n, wt := b.corridor(s.From, s.To, buffer, days)
					if s.IncidentCount != n || got.n != n || !near(got.w, wt) {
						t.Fatalf("segment %d (%v–%v, buffer %.0f m): engine %d (%d) incidents weighing %.9f, exact %d weighing %.9f",
							s.Index, s.From, s.To, buffer, s.IncidentCount, got.n, got.w, n, wt)
					}
				}
				e.mu.RUnlock()
			}
		})
	}
}

// Heatmap counts are exact and count only the box: around Lagos and in
// boxes across the antimeridian (minLng > maxLng).
func TestHeatmapCountsMatchBruteForce(t *testing.T) {
	for _, pl := range exactPlaces[:2] {
		t.Run(pl.name, func(t *testing.T) {
			e, b := loadExact(t, randomReports(7, 20000, pl.centre, 12))
			rng := rand.New(rand.NewPCG(8, 8))
			for i := range 20 {
				c := randomNear(rng, pl.centre, 3000)
				half := (1000 + rng.Float64()*5000) / metersPerDegree
				box := Box{math.Remainder(c.Lng()-half, 360), c.Lat() - half*0.8, math.Remainder(c.Lng()+half, 360), c.Lat() + half*0.8}
				cellM := []float64{50, 137, 250, 600, 2000}[i%5]
				days := []int{7, 30, 90, 365}[i%4]
				category := []Category{"", "", SOS, Medical}[i%4]
				h, err := e.Heatmap(Query{Days: days, Category: category}, box, cellM)
				if err != nil {
					t.Fatal(err)
				}
				checkHeatmapCounts(t, b, h, box, cellM, days, category)
			}
		})
	}
}

// checkHeatmapCounts compares a heatmap's counts with the reports inside
// its box: the box's edges included, the east and north edges belonging to
// the last column and row, longitudes counted east from the west edge
// (across the antimeridian too).
func checkHeatmapCounts(t *testing.T, b *brute, h *HeatmapResponse, box Box, cellM float64, days int, category Category) {
	t.Helper()
	deg := cellM / metersPerDegree
	east := func(lng float64) float64 { return math.Mod(math.Mod(lng-box.MinLng, 360)+360, 360) }
	width := east(box.MaxLng)
	nx, ny := int(math.Ceil(width/deg)), int(math.Ceil((box.MaxLat-box.MinLat)/deg))
	want := map[[2]int]int{}
	total := 0
	for _, r := range b.reports {
		if !b.inWindow(r, days) || category != "" && r.Category != category {
			continue
		}
		lng, lat := r.Location.Lng(), r.Location.Lat()
		if east(lng) > width || lat < box.MinLat || lat > box.MaxLat {
			continue
		}
		ox, oy := min(nx-1, int(math.Floor(east(lng)/deg))), min(ny-1, int(math.Floor((lat-box.MinLat)/deg)))
		want[[2]int{ox, oy}]++
		total++
	}
	got := map[[2]int]int{}
	for _, cell := range h.Cells {
		if !box.contains(cell.Lng, cell.Lat) {
			t.Fatalf("cell centre %v, %v lies outside the box %v", cell.Lng, cell.Lat, box)
		}
		if cell.Count > 0 {
			got[[2]int{int(math.Floor(east(cell.Lng)/deg + 0.01)), int(math.Floor((cell.Lat-box.MinLat)/deg + 0.01))}] = cell.Count
		}
	}
	if h.TotalIncidents != total || len(got) != len(want) {
		t.Fatalf("heatmap of %v at %.0f m: %d incidents in %d cells, exact %d in %d", box, cellM, h.TotalIncidents, len(got), total, len(want))
	}
	for k, n := range want {
		if got[k] != n {
			t.Fatalf("heatmap of %v cell %v: %d incidents, exact %d", box, k, got[k], n)
		}
	}
}

// Removing reports, and adding them out of time order, leaves the same
// answers as adding only the rest in order.
func TestAddRemoveOutOfOrder(t *testing.T) {
	reports := randomReports(9, 5000, Lagos, 6)
	e, _ := loadExact(t, reports)
	kept := []Report{}
	for i, r := range reports {
		if i%3 == 0 {
			e.Remove(r)
		} else {
			kept = append(kept, r)
		}
	}
	if e.Len() != len(kept) {
		t.Fatalf("%d reports after removing, want %d", e.Len(), len(kept))
	}
	b := &brute{reports: kept, now: exactNow, halfLife: e.cfg.HalfLife}
	rng := rand.New(rand.NewPCG(10, 10))
	for range 50 {
		p, radius := randomNear(rng, Lagos, 3000), 200+rng.Float64()*2000
		w := e.mustWindow(t, 90)
		e.rlock(&w)
		var got tally
		e.gather(&w, newCircle(p, radius), &got, false, 0)
		e.mu.RUnlock()
		if n, wt := b.circle(p, radius, 90); got.n != n || !near(got.w, wt) {
			t.Fatalf("after removals: %d weighing %v, exact %d weighing %v", got.n, got.w, n, wt)
		}
	}
}

func (e *Engine) mustWindow(t testing.TB, days int) window {
	t.Helper()
	w, err := e.window(Query{Days: days})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func randomNear(rng *rand.Rand, c geo.Point, m float64) geo.Point {
	cos := math.Cos(c.Lat() * math.Pi / 180)
	lng := math.Remainder(c.Lng()+(rng.Float64()-0.5)*2*m/(metersPerDegree*cos), 360)
	return geo.Point{lng, math.Max(-90, math.Min(90, c.Lat()+(rng.Float64()-0.5)*2*m/metersPerDegree))}
}

// Queries running while reports arrive (in order, late and out of order)
// and leave see a consistent engine; with every report in, the answers are
// exact.
func TestConcurrentAddAndQuery(t *testing.T) {
	reports := randomReports(12, 6000, Lagos, 6)
	e := NewEngine(Config{Now: func() time.Time { return exactNow }})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i, r := range reports {
			e.Add(r)
			if i%50 == 0 {
				e.Remove(r)
				e.Add(r)
			}
		}
	}()
	rng := rand.New(rand.NewPCG(13, 13))
	for range 200 {
		p := randomNear(rng, Lagos, 3000)
		if _, err := e.Score(ScoreQuery{Location: p}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Route(RouteQuery{Path: []geo.Point{p, randomNear(rng, Lagos, 3000)}}); err != nil {
			t.Fatal(err)
		}
	}
	<-done
	b := &brute{reports: reports, now: exactNow, halfLife: e.cfg.HalfLife}
	for range 20 {
		p := randomNear(rng, Lagos, 3000)
		s, err := e.Score(ScoreQuery{Location: p, RadiusM: 2000})
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := b.circle(p, 2000, 90); s.IncidentCount != n {
			t.Fatalf("%d incidents, exact %d", s.IncidentCount, n)
		}
	}
}

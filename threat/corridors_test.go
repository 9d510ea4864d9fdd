package threat

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety/geo"
)

// The corridor sweep (weighCorridors) against the brute force and against
// gather, a corridor at a time, on many random routes: short and long
// (hundreds of kilometres), with hundreds of points, with repeated points
// (segments of no length), across the antimeridian, past and over the
// poles and where the flat frame gives way to the exact one (70°).
func TestRouteSweepMatchesBruteForce(t *testing.T) {
	places := []struct {
		name   string
		centre geo.Point
		km     float64
	}{
		{"lagos", Lagos, 8},
		{"antimeridian", geo.NewPoint(-16.5, 180), 8},
		{"north pole", geo.NewPoint(89.95, 20), 8},
		{"south pole", geo.NewPoint(-89.97, -120), 6},
		{"arctic", geo.NewPoint(72, -60), 8},
		{"polar edge on the antimeridian", geo.NewPoint(69.97, 179.99), 8},
	}
	routes := 24
	if testing.Short() {
		routes = 8
	}
	for pi, pl := range places {
		t.Run(pl.name, func(t *testing.T) {
			e, b := loadExact(t, randomReports(uint64(40+pi), 6000, pl.centre, pl.km))
			byLat := slices.SortedFunc(slices.Values(b.reports), func(x, y Report) int { return cmpFloat(x.Location.Lat(), y.Location.Lat()) })
			rng := rand.New(rand.NewPCG(uint64(50+pi), 3))
			for i := range routes {
				q := RouteQuery{Path: randomRoute(rng, pl.centre, i), BufferM: 25 + rng.Float64()*975,
					Query: Query{Days: []int{7, 30, 90, 365}[i%4]}}
				if i%5 == 3 {
					q.Category = Categories[i%len(Categories)]
				}
				if i%3 == 1 {
					q.At = exactNow.Add(-time.Duration(rng.IntN(86400)) * time.Second)
				}
				checkRouteExact(t, e, b, byLat, q)
			}
		})
	}
}

// checkRouteExact compares every segment of the route with the brute
// force (counts equal, weights to 1e-9) and the sweep with gather.
func checkRouteExact(t *testing.T, e *Engine, b *brute, byLat []Report, q RouteQuery) {
	t.Helper()
	r, err := e.Route(q)
	if err != nil {
		t.Fatalf("%d points: %v", len(q.Path), err)
	}
	cs := make([]corridor, len(r.Segments))
	for i, s := range r.Segments {
		cs[i] = *newCorridor(s.From, s.To, q.BufferM)
	}
	w, err := e.window(q.Query)
	if err != nil {
		t.Fatal(err)
	}
	detail := !q.At.IsZero()
	e.rlock(&w)
	defer e.mu.RUnlock()
	swept := make([]segmentTally, len(cs))
	var hours, gatheredHours [24]int
	e.weighCorridors(&w, cs, detail, swept, &hours)
	for i, s := range r.Segments {
		var g tally
		e.gather(&w, &cs[i], &g, detail, 0)
		for h, n := range g.hours {
			gatheredHours[h] += n
		}
		n, wt := b.segment(byLat, s.From, s.To, q.BufferM, q.Days, q.Category)
		if s.IncidentCount != n || swept[i].n != n || g.n != n || !near(swept[i].w, wt) || !near(g.w, wt) {
			t.Fatalf("%d-point route, segment %d (%v–%v, %.0f m, buffer %.0f m, %d days, category %q): route %d, sweep %d weighing %.9f, gather %d weighing %.9f; exact %d weighing %.9f",
				len(q.Path), i, s.From, s.To, s.DistanceMeters, q.BufferM, q.Days, q.Category, s.IncidentCount, swept[i].n, swept[i].w, g.n, g.w, n, wt)
		}
	}
	if detail && hours != gatheredHours {
		t.Fatalf("hours: sweep %v, gather %v", hours, gatheredHours)
	}
}

// segment is brute.corridor over the reports of the category that can be
// within buffer of the segment: every point of a segment is within its
// length of its start, so of its latitudes too (byLat is sorted by
// latitude).
func (b *brute) segment(byLat []Report, a, c geo.Point, buffer float64, days int, category Category) (int, float64) {
	length := geo.Distance(a, c)
	reach := (length + buffer + 50) / metersPerDegree
	lo := sort.Search(len(byLat), func(i int) bool { return byLat[i].Location.Lat() >= math.Min(a.Lat(), c.Lat())-reach })
	n, w := 0, 0.0
	for _, r := range byLat[lo:] {
		if r.Location.Lat() > math.Max(a.Lat(), c.Lat())+reach {
			break
		}
		if category != "" && r.Category != category || !b.inWindow(r, days) || geo.Distance(a, r.Location) > length+buffer+1 {
			continue
		}
		if segmentDistance(r.Location, a, c) <= buffer {
			n++
			w += b.weight(r)
		}
	}
	return n, w
}

// randomRoute is one of five kinds of route around centre, by i: a few
// legs of up to 5 km; a walk of 50–500 points in steps of up to 150 m,
// some repeated (segments of no length); a long route of up to 480 km
// through centre; a route whose points alternate across the meridian
// opposite centre's (across the antimeridian at 0°, over the pole near
// one); and a short walk of steps under a metre.
func randomRoute(rng *rand.Rand, centre geo.Point, i int) []geo.Point {
	switch i % 5 {
	case 0:
		path := []geo.Point{}
		for range 2 + rng.IntN(5) {
			path = append(path, randomNear(rng, centre, 5000))
		}
		return path
	case 1:
		p := randomNear(rng, centre, 3000)
		path := []geo.Point{p}
		bearing := rng.Float64() * 360
		for n := 50 + rng.IntN(451); len(path) < n; {
			switch rng.IntN(10) {
			case 0: // the same point again
			default:
				bearing += rng.NormFloat64() * 30
				p = onEarth(destination(p, bearing*degToRad, rng.Float64()*150))
			}
			path = append(path, p)
		}
		return path
	case 2:
		bearing := rng.Float64() * 360
		half := 20_000 + rng.Float64()*220_000
		mid := randomNear(rng, centre, 2000)
		return []geo.Point{onEarth(destination(mid, bearing*degToRad, half)), mid, onEarth(destination(mid, (bearing+170+rng.Float64()*20)*degToRad, half))}
	case 3:
		path := []geo.Point{}
		for k := range 2 + rng.IntN(6) {
			p := randomNear(rng, centre, 2000)
			switch {
			case k%2 == 0:
			case math.Abs(p.Lat()) > 80: // to the other side of the pole
				p = geo.Point{math.Remainder(p.Lng()+180, 360), p.Lat()}
			default: // mirrored across centre's meridian
				p = geo.Point{math.Remainder(2*centre.Lng()-p.Lng(), 360), p.Lat()}
			}
			path = append(path, p)
		}
		return path
	}
	p := randomNear(rng, centre, 3000)
	path := []geo.Point{p}
	for range 2 + rng.IntN(30) {
		p = onEarth(destination(p, rng.Float64()*2*math.Pi, rng.Float64()))
		path = append(path, p)
	}
	return path
}

// onEarth keeps a destination's latitude within ±90° (past a pole, its
// rounding can overshoot).
func onEarth(p geo.Point) geo.Point { return geo.Point{p.Lng(), math.Max(-90, math.Min(90, p.Lat()))} }

// A route across the antimeridian studies its danger zones as one area,
// as a bbox across it does: a cluster on the seam is the one zone it
// crosses, found as the same route finds it at 0°.
func TestRouteAcrossTheAntimeridianCrossesOneZone(t *testing.T) {
	world := Synthetic{Center: geo.NewPoint(-16.5, 0), RadiusM: 8000, Background: 6000, Start: exactNow.Add(-90 * 24 * time.Hour), End: exactNow, Seed: 9,
		Spots: []Spot{{Center: geo.NewPoint(-16.5, 0), SigmaM: 200, Count: 120}}}
	at0, _ := load(t, 0, world.Generate)
	at180, _ := load(t, 0, func(fn func(Report)) {
		world.Generate(func(r Report) {
			r.Location = geo.Point{math.Remainder(r.Location.Lng()+180, 360), r.Location.Lat()}
			fn(r)
		})
	})
	r0, err0 := at0.Route(RouteQuery{Path: []geo.Point{{-0.03, -16.5}, {0.03, -16.5}}})
	r180, err180 := at180.Route(RouteQuery{Path: []geo.Point{{179.97, -16.5}, {-179.97, -16.5}}})
	if err0 != nil || err180 != nil {
		t.Fatal(err0, err180)
	}
	zs, _, err := at180.Zones(Query{}, Box{179.94, -16.56, -179.94, -16.44}, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var seam []string
	for _, z := range zs {
		if geo.Distance(z.Center, geo.NewPoint(-16.5, 180)) < 1500 {
			seam = append(seam, z.ZoneID)
		}
	}
	if len(r0.DangerZones) != 1 || !slices.Equal(r180.DangerZones, seam) || len(seam) != 1 {
		t.Fatalf("the route at 0° crosses zones %v; across ±180 %v, where the bbox's zone on the seam is %v", r0.DangerZones, r180.DangerZones, seam)
	}
	for i := range r0.Segments {
		if a, b := r0.Segments[i], r180.Segments[i]; a.IncidentCount != b.IncidentCount || a.Score != b.Score {
			t.Fatalf("segment %d: %d incidents scoring %d at 0°, %d scoring %d across ±180", i, a.IncidentCount, a.Score, b.IncidentCount, b.Score)
		}
	}
}

// Routes, zone searches and analytics running at once answer as each does
// alone: their sweeps and studies reuse pooled memory, never another's.
func TestConcurrentQueriesAnswerAsAlone(t *testing.T) {
	e, _ := loadExact(t, randomReports(31, 20000, Lagos, 10))
	rng := rand.New(rand.NewPCG(31, 5))
	var routes []RouteQuery
	for i := range 10 {
		routes = append(routes, RouteQuery{Path: randomRoute(rng, Lagos, i), BufferM: 25 + rng.Float64()*975})
	}
	ask := func(i int) []any {
		p := randomNear(rand.New(rand.NewPCG(uint64(i), 1)), Lagos, 6000)
		switch i % 3 {
		case 0:
			r, err := e.Route(routes[i/3%len(routes)])
			return []any{r, err}
		case 1:
			zs, w, err := e.Zones(Query{}, Box{p.Lng() - 0.05, p.Lat() - 0.05, p.Lng() + 0.05, p.Lat() + 0.05}, "", 0)
			return []any{zs, w, err}
		}
		// Its danger and safe zones (its repeat locations' order among
		// ties is not fixed).
		a, err := e.Analytics(AnalyticsQuery{Location: p, RadiusM: 1500})
		return []any{a.DangerZones, a.SafeZones, err}
	}
	const n = 30
	want := make([][]any, n)
	for i := range want {
		want[i] = ask(i)
	}
	var wg sync.WaitGroup
	failed := make(chan int, 4*n)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range n {
				if i := (k + 7*g) % n; !reflect.DeepEqual(ask(i), want[i]) {
					failed <- i
				}
			}
		}()
	}
	wg.Wait()
	close(failed)
	for i := range failed {
		t.Fatalf("query %d answered otherwise while others ran", i)
	}
}

package threat

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sety-io/sety/geo"
)

// The sweep decides every record as the exact great-circle distance does
// (arc.dist ≤ buffer, with the engine's own stored position), on random
// routes with records planted on their corridors' edges — micrometres
// inside and outside, where the flat test hands over to the exact one and
// the exact one to its fallback — near the equator, across ±180, at both
// poles and where the flat frame gives way to the exact one (70°): every
// segment's count equals the reference's and so does corridor.contains's,
// record by record; weights agree to 1e-9.
func TestSweepDecidesAsTheExactDistance(t *testing.T) {
	places := []struct {
		name   string
		centre geo.Point
	}{
		{"lagos", Lagos},
		{"antimeridian", geo.NewPoint(-16.5, 180)},
		{"north pole", geo.NewPoint(89.95, 20)},
		{"south pole", geo.NewPoint(-89.97, -120)},
		{"arctic", geo.NewPoint(72, -60)},
		{"polar edge on the antimeridian", geo.NewPoint(69.97, 179.99)},
	}
	routes := 10
	if testing.Short() {
		routes = 4
	}
	for pi, pl := range places {
		t.Run(pl.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(70+pi), 9))
			var qs []RouteQuery
			reports := randomReports(uint64(80+pi), 3000, pl.centre, 8)
			for i := range routes {
				q := RouteQuery{Path: randomRoute(rng, pl.centre, i), BufferM: 25 + rng.Float64()*975, Query: Query{Days: 365}}
				if i%3 == 1 {
					q.At = exactNow.Add(-time.Duration(rng.IntN(86400)) * time.Second)
				}
				qs = append(qs, q)
				for k := 0; k+1 < len(q.Path); k++ {
					for range 6 {
						p := onEdge(rng, q.Path[k], q.Path[k+1], q.BufferM)
						reports = append(reports, Report{At: exactNow.Add(-time.Duration(rng.IntN(300*86400)) * time.Second),
							Location: p, Category: Categories[rng.IntN(4)], Severity: Severities[rng.IntN(4)]})
					}
				}
			}
			e, _ := loadExact(t, reports)
			for _, q := range qs {
				checkSweepExact(t, e, q)
			}
		})
	}
}

// Outside the band of recordBand the flat test decides alone: records
// planted just inside and outside that band, and at a third and twice
// its width, either side of the edge, are counted as the exact distance
// counts them, where the flat frame errs most (just below 70°, where the
// frame gives way to the exact test, with buffers up to 1,000 m) as well
// as at Lagos and across ±180.
func TestSweepFlatTestHoldsOutsideItsBand(t *testing.T) {
	places := []struct {
		name   string
		centre geo.Point
	}{
		{"lagos", Lagos},
		{"antimeridian", geo.NewPoint(-16.5, 180)},
		{"69.9° N", geo.NewPoint(69.9, 30)},
		{"69.9° S", geo.NewPoint(-69.9, -179.99)},
	}
	routes := 10
	if testing.Short() {
		routes = 4
	}
	for pi, pl := range places {
		t.Run(pl.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(170+pi), 11))
			var qs []RouteQuery
			var reports []Report
			for i := range routes {
				q := RouteQuery{Path: randomRoute(rng, pl.centre, i), BufferM: 25 + rng.Float64()*975, Query: Query{Days: 365}}
				qs = append(qs, q)
				band := recordBand(q.BufferM, maxSegmentM)
				for k := 0; k+1 < len(q.Path); k++ {
					for range 8 {
						off := []float64{band * 1.001, band * 0.999, band / 3, 2 * band}[rng.IntN(4)]
						if rng.IntN(2) == 0 {
							off = -off
						}
						p := offEdge(rng, q.Path[k], q.Path[k+1], q.BufferM, off)
						reports = append(reports, Report{At: exactNow.Add(-time.Duration(rng.IntN(300*86400)) * time.Second),
							Location: p, Category: Categories[rng.IntN(4)], Severity: Severities[rng.IntN(4)]})
					}
				}
			}
			e, _ := loadExact(t, reports)
			for _, q := range qs {
				checkSweepExact(t, e, q)
			}
		})
	}
}

// checkSweepExact compares the route's segments with the count of every
// stored record in the window whose exact distance is within the buffer.
func checkSweepExact(t *testing.T, e *Engine, q RouteQuery) {
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
	e.rlock(&w)
	defer e.mu.RUnlock()
	swept := make([]segmentTally, len(cs))
	var hours [24]int
	e.weighCorridors(&w, cs, !q.At.IsZero(), swept, &hours)
	for i := range cs {
		c := &cs[i]
		minLat, maxLat, spans := c.bounds()
		n, byContains, wt := 0, 0, 0.0
		e.cellsIn(minLat, maxLat, spans, func(cl *cell) {
			i, j := w.span(cl)
			for k := i; k < j; k++ {
				lng, lat := e.g.point(cl, &cl.recs[k])
				if c.s.dist(unit(geo.Point{lng, lat})) <= q.BufferM {
					n++
					wt += w.weightOf(cl, k)
				}
				if c.contains(lng, lat) {
					byContains++
				}
			}
		})
		if r.Segments[i].IncidentCount != n || swept[i].n != n || byContains != n || !near(swept[i].w, wt) {
			t.Fatalf("%d-point route, segment %d (%v–%v, buffer %.3f m): route %d, sweep %d weighing %.12f, corridor.contains %d; exact distance %d weighing %.12f",
				len(q.Path), i, r.Segments[i].From, r.Segments[i].To, q.BufferM, r.Segments[i].IncidentCount, swept[i].n, swept[i].w, byContains, n, wt)
		}
	}
}

// onEdge is a point about buffer metres from the great-circle segment a–b
// (across from a point of it, or beyond an end), off the edge by nothing
// to a centimetre either way.
func onEdge(rng *rand.Rand, a, b geo.Point, buffer float64) geo.Point {
	off := []float64{0, 1e-12, -1e-12, 1e-9, -1e-9, 1e-7, -1e-7, 1e-4, -1e-4}[rng.IntN(9)] * buffer
	return offEdge(rng, a, b, buffer, off)
}

// offEdge is a point buffer + off metres from the great-circle segment
// a–b, across from a point of it or beyond an end.
func offEdge(rng *rand.Rand, a, b geo.Point, buffer, off float64) geo.Point {
	θ := (buffer + off) / geo.EarthRadiusMeters
	ua, ub := unit(a), unit(b)
	s := newArc(a, b, ua, ub)
	f := rng.Float64()*1.4 - 0.2
	if s.degen || f < 0 || f > 1 {
		// Beyond an end: from it, away from the other.
		end, other := ua, ub
		if f > 1 {
			end, other = ub, ua
		}
		dir := vec{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		dir = dir.sub(end.scale(dir.dot(end)))
		if away := other.sub(end); dir.dot(away) > 0 {
			dir = dir.sub(away.scale(2 * dir.dot(away) / away.dot(away)))
			dir = dir.sub(end.scale(dir.dot(end)))
		}
		return onEarth(end.scale(math.Cos(θ)).add(dir.scale(math.Sin(θ) / dir.norm())).point())
	}
	q := ua.scale(1 - f).add(ub.scale(f))
	q = q.scale(1 / q.norm())
	side := 1.0
	if rng.IntN(2) == 0 {
		side = -1
	}
	return onEarth(q.scale(math.Cos(θ)).add(s.n.scale(side * math.Sin(θ))).point())
}

// arc.within answers as comparing arc.dist does, on points at the limit
// and a hair either side of it, near arcs long and short, of no length,
// across ±180 and over the poles, for limits from a metre to a quarter of
// the globe and beyond.
func TestArcWithinDecidesAsDist(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 77))
	centres := []geo.Point{Lagos, geo.NewPoint(-16.5, 180), geo.NewPoint(89.999, 20), geo.NewPoint(-90, 0), geo.NewPoint(72, -60)}
	agree, fallback := 0, 0
	for i := range 20000 {
		c := centres[i%len(centres)]
		a := randomNear(rng, c, 3000)
		var b geo.Point
		switch i % 4 {
		case 0:
			b = a // no length
		case 1:
			b = onEarth(destination(a, rng.Float64()*2*math.Pi, rng.Float64()*500))
		case 2:
			b = onEarth(destination(a, rng.Float64()*2*math.Pi, rng.Float64()*500_000))
		default:
			b = geo.Point{math.Remainder(2*c.Lng()-a.Lng(), 360), a.Lat()} // mirrored across c's meridian
		}
		r := []float64{1, 25, 150, 1000, 1e6, geo.EarthRadiusMeters * math.Pi / 2, 1.9e7}[rng.IntN(7)]
		lim := newReachLimit(r)
		s := newArc(a, b, unit(a), unit(b))
		for _, eps := range []float64{0, 1e-15, -1e-15, 1e-12, -1e-12, 1e-10, -1e-10, 1e-8, -1e-8} {
			p := unit(onEdge(rng, a, b, r*(1+eps)))
			want := s.dist(p) <= r
			if got := s.within(p, &lim); got != want {
				t.Fatalf("arc %v–%v, limit %v m, point %v at %.17g m: within says %v", a, b, r, p.point(), s.dist(p), got)
			}
			agree++
			if d := s.dist(p); math.Abs(d-r) <= 2e-9*r {
				fallback++
			}
		}
	}
	if fallback == 0 {
		t.Fatalf("no point of %d came within a hair of its limit", agree)
	}
}

// lane.rectDist2 is never more than the squared distance of any point of
// the rectangle from the segment (a fine sample of them), and is that
// distance for a segment of no length; lanes of no length included.
func TestLaneRectDist2(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 27))
	for i := range 3000 {
		ax, ay := rng.NormFloat64()*300, rng.NormFloat64()*300
		var dx, dy float64
		if i%5 > 0 {
			dx, dy = rng.NormFloat64()*200, rng.NormFloat64()*200
		}
		l := newLane(newGrid(250), &corridor{ax: ax, ay: ay, bx: ax + dx, by: ay + dy, buffer: 150}, reachLimit{}, 0, 0, 0, 0, 0)
		x0, y0 := rng.NormFloat64()*300, rng.NormFloat64()*300
		x1, y1 := x0+rng.Float64()*250, y0+rng.Float64()*250
		got := l.rectDist2(x0, y0, x1, y1)
		least := math.Inf(1)
		const n = 60
		for i := range n + 1 {
			for j := range n + 1 {
				least = min(least, l.dist2(x0+(x1-x0)*float64(i)/n, y0+(y1-y0)*float64(j)/n))
			}
		}
		if got > least*(1+1e-12)+1e-9 {
			t.Fatalf("segment (%v, %v)+(%v, %v), rectangle [%v, %v]×[%v, %v]: rectDist2 %v, more than the sampled least %v", ax, ay, dx, dy, x0, x1, y0, y1, got, least)
		}
		if dx == 0 && dy == 0 && math.Sqrt(got) < math.Sqrt(least)-math.Hypot(x1-x0, y1-y0)/n-1e-6 {
			t.Fatalf("point (%v, %v), rectangle [%v, %v]×[%v, %v]: rectDist2 %v, sampled least %v", ax, ay, x0, x1, y0, y1, got, least)
		}
	}
}

package threat

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety/geo"
)

// BenchmarkVersusBruteForce answers BenchmarkEngine's score, heatmap and
// route queries over the same million incidents with the engine and with
// the exact brute force, alternately in every iteration, and reports the
// median time of each and their ratio — one run, one machine, one load:
//
//	go test ./threat -run '^$' -bench VersusBruteForce -cpu 1 -benchtime 20x
//
// The brute force scans every incident for every query, with a latitude
// and longitude box test before the exact distance (what a sequential scan
// in a database does).

var (
	millionOnce    sync.Once
	millionReports []Report
	millionEngine  *Engine
)

func million() ([]Report, *Engine) {
	millionOnce.Do(func() {
		LagosYear(exactNow, 700_000, 42).Generate(func(r Report) { millionReports = append(millionReports, r) })
		millionEngine = NewEngine(Config{Now: func() time.Time { return exactNow }})
		for _, r := range millionReports {
			millionEngine.Add(r)
		}
		millionEngine.Refresh()
	})
	return millionReports, millionEngine
}

// lagosAt moves from Lagos by kilometres, as the external tests' at.
func lagosAt(northKm, eastKm float64) geo.Point {
	return geo.NewPoint(Lagos.Lat()+northKm/111.195, Lagos.Lng()+eastKm/110.4)
}

func BenchmarkVersusBruteForce(b *testing.B) {
	rs, e := million()
	bf := &brute{reports: rs, now: exactNow, halfLife: 30 * 24 * time.Hour}
	versus := func(b *testing.B, engine func(i int), exact func(i int)) {
		var te, tb []time.Duration
		i := 0
		for b.Loop() {
			start := time.Now()
			engine(i)
			te = append(te, time.Since(start))
			start = time.Now()
			exact(i)
			tb = append(tb, time.Since(start))
			i++
		}
		slices.Sort(te)
		slices.Sort(tb)
		me, mb := te[len(te)/2], tb[len(tb)/2]
		b.ReportMetric(float64(me.Microseconds()), "engine-µs")
		b.ReportMetric(float64(mb.Microseconds()), "brute-µs")
		b.ReportMetric(float64(mb)/float64(me), "speedup-x")
	}
	point := func(i int) geo.Point { return lagosAt(float64(i%41)/2-10, float64(i%37)/2-9) }
	b.Run("score", func(b *testing.B) {
		versus(b, func(i int) {
			if _, err := e.Score(ScoreQuery{Location: point(i)}); err != nil {
				b.Fatal(err)
			}
		}, func(i int) { bf.circleBoxed(point(i), 500, 90) })
	})
	b.Run("heatmap-20km-250m", func(b *testing.B) {
		box := Box{MinLng: lagosAt(0, -10).Lng(), MinLat: lagosAt(-10, 0).Lat(), MaxLng: lagosAt(0, 10).Lng(), MaxLat: lagosAt(10, 0).Lat()}
		versus(b, func(int) {
			if _, err := e.Heatmap(Query{}, box, 250); err != nil {
				b.Fatal(err)
			}
		}, func(int) { bf.heatmap(box, 250, 90) })
	})
	b.Run("route-30km", func(b *testing.B) {
		path := []geo.Point{lagosAt(-12, -15), lagosAt(-4, -5), lagosAt(2, 3), lagosAt(8, 14)}
		route, err := e.Route(RouteQuery{Path: path})
		if err != nil {
			b.Fatal(err)
		}
		versus(b, func(int) {
			if _, err := e.Route(RouteQuery{Path: path}); err != nil {
				b.Fatal(err)
			}
		}, func(int) {
			for _, s := range route.Segments {
				bf.corridorBoxed(s.From, s.To, 150, 90)
			}
		})
	})
}

// circleBoxed is brute.circle with a box test first.
func (b *brute) circleBoxed(p geo.Point, radius float64, days int) (int, float64) {
	dLat := radius / metersPerDegree * 1.01
	dLng := dLat / math.Cos(p.Lat()*math.Pi/180)
	n, w := 0, 0.0
	for _, r := range b.reports {
		if math.Abs(r.Location.Lat()-p.Lat()) > dLat || math.Abs(r.Location.Lng()-p.Lng()) > dLng || !b.inWindow(r, days) {
			continue
		}
		if geo.Distance(p, r.Location) <= radius {
			n++
			w += b.weight(r)
		}
	}
	return n, w
}

func (b *brute) corridorBoxed(a, c geo.Point, buffer float64, days int) (int, float64) {
	dLat := buffer / metersPerDegree * 1.01
	dLng := dLat / math.Cos(a.Lat()*math.Pi/180)
	minLat, maxLat := math.Min(a.Lat(), c.Lat())-dLat, math.Max(a.Lat(), c.Lat())+dLat
	minLng, maxLng := math.Min(a.Lng(), c.Lng())-dLng, math.Max(a.Lng(), c.Lng())+dLng
	n, w := 0, 0.0
	for _, r := range b.reports {
		p := r.Location
		if p.Lat() < minLat || p.Lat() > maxLat || p.Lng() < minLng || p.Lng() > maxLng || !b.inWindow(r, days) {
			continue
		}
		if segmentDistance(p, a, c) <= buffer {
			n++
			w += b.weight(r)
		}
	}
	return n, w
}

// heatmap bins every report of the window into the output cells of the
// box and its kernel margin, and smooths them as Engine.Heatmap does.
func (b *brute) heatmap(box Box, cellM float64, days int) ([]int, []float64) {
	deg := cellM / metersPerDegree
	nx, ny := int(math.Ceil((box.MaxLng-box.MinLng)/deg)), int(math.Ceil((box.MaxLat-box.MinLat)/deg))
	radius := 1.5 * math.Max(cellM, 250) / metersPerDegree
	cos := math.Max(math.Cos((box.MinLat+box.MaxLat)/2*math.Pi/180), 0.01)
	rx, ry := int(math.Ceil(radius/cos/deg)), int(math.Ceil(radius/deg))
	px, py := nx+2*rx, ny+2*ry
	bins := make([]float64, px*py)
	counts := make([]int, nx*ny)
	for _, r := range b.reports {
		ox := int(math.Floor((r.Location.Lng()-box.MinLng)/deg)) + rx
		oy := int(math.Floor((r.Location.Lat()-box.MinLat)/deg)) + ry
		if ox < 0 || ox >= px || oy < 0 || oy >= py || !b.inWindow(r, days) {
			continue
		}
		bins[oy*px+ox] += b.weight(r)
		if gx, gy := ox-rx, oy-ry; gx >= 0 && gx < nx && gy >= 0 && gy < ny {
			counts[gy*nx+gx]++
		}
	}
	var kernel []float64
	total := 0.0
	for dy := -ry; dy <= ry; dy++ {
		for dx := -rx; dx <= rx; dx++ {
			u := math.Pow(float64(dx)*deg*cos, 2) + math.Pow(float64(dy)*deg, 2)
			k := math.Max(0, 1-u/(radius*radius))
			kernel = append(kernel, k*k)
			total += k * k
		}
	}
	weights := make([]float64, nx*ny)
	for gy := range ny {
		for gx := range nx {
			s := 0.0
			for dy := -ry; dy <= ry; dy++ {
				for dx := -rx; dx <= rx; dx++ {
					s += bins[(gy+ry+dy)*px+gx+rx+dx] * kernel[(dy+ry)*(2*rx+1)+dx+rx]
				}
			}
			weights[gy*nx+gx] = s / total
		}
	}
	return counts, weights
}

// BenchmarkExactMillion checks the engine against the brute force over the
// million incidents: counts within 500 m of 300 places (a third of them
// around the planted spots), per segment of five routes, and per cell of
// the 20 km heatmap; and the ranking of scores against the exact decayed
// weight (Spearman). It fails on any difference.
//
//	go test ./threat -run '^$' -bench ExactMillion -benchtime 1x
func BenchmarkExactMillion(b *testing.B) {
	rs, e := million()
	bf := &brute{reports: rs, now: exactNow, halfLife: 30 * 24 * time.Hour}
	for b.Loop() {
		rng := rand.New(rand.NewPCG(21, 21))
		var places []geo.Point
		for i := range 300 {
			if i%3 == 0 {
				c := [][2]float64{{-10.6, 4.7}, {8.6, -3.0}, {-2.0, -6.5}, {3.0, 9.0}}[i%4]
				places = append(places, lagosAt(c[0]+rng.NormFloat64()*0.5, c[1]+rng.NormFloat64()*0.5))
			} else {
				places = append(places, lagosAt(rng.Float64()*20-10, rng.Float64()*20-10))
			}
		}
		var off, total int
		var scores, weights []float64
		for _, p := range places {
			s, err := e.Score(ScoreQuery{Location: p})
			if err != nil {
				b.Fatal(err)
			}
			n, w := bf.circleBoxed(p, 500, 90)
			off += abs(s.IncidentCount - n)
			total += n
			scores, weights = append(scores, -float64(s.Score)), append(weights, w)
		}
		b.ReportMetric(100*float64(off)/float64(total), "circle-off-%")
		b.ReportMetric(spearman(scores, weights), "spearman")
		if off > 0 {
			b.Errorf("counts within 500 m are off by %d of %d incidents", off, total)
		}
		off, total = 0, 0
		for i := range 5 {
			path := []geo.Point{lagosAt(-12, -15), lagosAt(-4, -5), lagosAt(2, 3), lagosAt(8, 14)}
			if i > 0 {
				path = []geo.Point{lagosAt(rng.Float64()*20-10, rng.Float64()*20-10), lagosAt(rng.Float64()*20-10, rng.Float64()*20-10)}
			}
			r, err := e.Route(RouteQuery{Path: path})
			if err != nil {
				b.Fatal(err)
			}
			for _, s := range r.Segments {
				n, _ := bf.corridorBoxed(s.From, s.To, 150, 90)
				off += abs(s.IncidentCount - n)
				total += n
			}
		}
		b.ReportMetric(100*float64(off)/float64(total), "segment-off-%")
		if off > 0 {
			b.Errorf("route segment counts are off by %d of %d incidents", off, total)
		}
		box := Box{MinLng: lagosAt(0, -10).Lng(), MinLat: lagosAt(-10, 0).Lat(), MaxLng: lagosAt(0, 10).Lng(), MaxLat: lagosAt(10, 0).Lat()}
		h, err := e.Heatmap(Query{}, box, 250)
		if err != nil {
			b.Fatal(err)
		}
		counts, _ := bf.heatmap(box, 250, 90)
		deg := 250 / metersPerDegree
		nx := int(math.Ceil((box.MaxLng - box.MinLng) / deg))
		got := make([]int, len(counts))
		for _, c := range h.Cells {
			got[int(math.Floor((c.Lat-box.MinLat)/deg))*nx+int(math.Floor((c.Lng-box.MinLng)/deg))] = c.Count
		}
		off, total = 0, 0
		for i := range counts {
			off += abs(got[i] - counts[i])
			total += counts[i]
		}
		b.ReportMetric(100*float64(off)/float64(total), "heatmap-off-%")
		if off > 0 {
			b.Errorf("heatmap cells are off by %d of %d incidents", off, total)
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// spearman is the rank correlation of a and b, ties ranked by their mean.
func spearman(a, b []float64) float64 {
	ra, rb := ranks(a), ranks(b)
	n := float64(len(ra))
	mean := (n + 1) / 2
	var c, va, vb float64
	for i := range ra {
		c += (ra[i] - mean) * (rb[i] - mean)
		va += (ra[i] - mean) * (ra[i] - mean)
		vb += (rb[i] - mean) * (rb[i] - mean)
	}
	return c / math.Sqrt(va*vb)
}

func ranks(xs []float64) []float64 {
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(i, j int) int { return cmpFloat(xs[i], xs[j]) })
	r := make([]float64, len(xs))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && xs[idx[j+1]] == xs[idx[i]] {
			j++
		}
		for k := i; k <= j; k++ {
			r[idx[k]] = float64(i+j)/2 + 1
		}
		i = j + 1
	}
	return r
}

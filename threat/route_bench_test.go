package threat

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/internal/cputime"
)

// BenchmarkRoutes times route safety over the million incidents of
// BenchmarkVersusBruteForce, call by call (p50 and p90 on the wall) and
// in CPU (the process's, per call), on the routes of benchRoutes by kind
// and on a 500 km route through them:
//
//	go test ./threat -run '^$' -bench Routes -cpu 1 -benchtime 500x
func BenchmarkRoutes(b *testing.B) {
	_, e := million()
	set := benchRoutes()
	for _, bc := range []struct {
		name   string
		routes [][]geo.Point
	}{
		{"30km", set[:1]},
		{"waypoints", set[1:13]},
		{"router", set[13:]},
		{"all", set},
		{"500km", [][]geo.Point{{lagosAt(-3, -249), lagosAt(3, 249)}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var ds []time.Duration
			i := 0
			cpu := cputime.Process()
			for b.Loop() {
				start := time.Now()
				if _, err := e.Route(RouteQuery{Path: bc.routes[i%len(bc.routes)]}); err != nil {
					b.Fatal(err)
				}
				ds = append(ds, time.Since(start))
				i++
			}
			cpu = cputime.Process() - cpu
			slices.Sort(ds)
			b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(len(ds)), "cpu-µs/op")
			b.ReportMetric(float64(ds[len(ds)/2].Nanoseconds())/1e3, "p50-µs")
			b.ReportMetric(float64(ds[len(ds)*9/10].Nanoseconds())/1e3, "p90-µs")
		})
	}
}

// benchRoutes are 25 routes across the million incidents' 30 km around
// Lagos: BenchmarkEngine's 30 km one; 12 of 2–8 waypoints in legs of
// 0.5–8 km (1.5 to about 40 km); and 12 as a router draws them, 50–500
// points 20–100 m apart (2 to 30 km).
func benchRoutes() [][]geo.Point {
	routes := [][]geo.Point{{lagosAt(-12, -15), lagosAt(-4, -5), lagosAt(2, 3), lagosAt(8, 14)}}
	rng := rand.New(rand.NewPCG(27, 7))
	for range 12 {
		n, e := rng.Float64()*30-15, rng.Float64()*30-15
		path := []geo.Point{lagosAt(n, e)}
		for range 1 + rng.IntN(7) {
			leg, th := 0.5+rng.Float64()*7.5, rng.Float64()*2*math.Pi
			n, e = n+leg*math.Cos(th), e+leg*math.Sin(th)
			path = append(path, lagosAt(n, e))
		}
		routes = append(routes, path)
	}
	for range 12 {
		n, e := rng.Float64()*30-15, rng.Float64()*30-15
		th := rng.Float64() * 2 * math.Pi
		path := []geo.Point{lagosAt(n, e)}
		for k := 50 + rng.IntN(451); len(path) < k; {
			step := 0.02 + rng.Float64()*0.08
			th += rng.NormFloat64() * 0.3
			n, e = n+step*math.Cos(th), e+step*math.Sin(th)
			path = append(path, lagosAt(n, e))
		}
		routes = append(routes, path)
	}
	return routes
}

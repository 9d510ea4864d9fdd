//go:build unix

package threat_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/threat"
)

// BenchmarkQueries measures the CPU each threat query takes over a million
// incidents (LagosYear: 700,000 background incidents within 30 km of Lagos
// and 280,000 in four hot spots), in two worlds:
//
//   - static: the engine's clock stands still and nothing arrives;
//   - live: incidents arrive at 50 a second (of the wall clock) while the
//     queries run, and the engine's clock runs 1,500 times faster than the
//     wall's, so the 90-day window's start passes as many old incidents a
//     second (the data hold about one every 31 s) as a steady stream of
//     50 a second would. Whatever the engine keeps ready must keep up with
//     both ends of the window. The reference distribution of scores is
//     rebuilt every 10 minutes of the wall clock (RefreshEvery × 1,500).
//
// It reports the CPU of the process per query (cpu-µs/op: user and
// system time over the loop, the garbage collector's included) and the
// median of each query's own (cpu-p50-µs). Only public API is used, so
// the same file measures earlier commits:
//
//	go test ./threat -run '^$' -bench Queries -cpu 1 -benchtime 200x
func BenchmarkQueries(b *testing.B) {
	for _, live := range []bool{false, true} {
		name := "static"
		if live {
			name = "live"
		}
		b.Run(name, func(b *testing.B) { benchQueries(b, live) })
	}
}

// speed is how much faster than the wall the live engine's clock runs.
const liveSpeed = 1500

func benchQueries(b *testing.B, live bool) {
	base := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	var started atomic.Int64 // wall nanoseconds when the clock started; 0: standing
	clock := func() time.Time {
		if s := started.Load(); s != 0 {
			return base.Add(time.Duration(liveSpeed * (time.Now().UnixNano() - s)))
		}
		return base
	}
	cfg := threat.Config{Now: clock}
	if live {
		cfg.RefreshEvery = liveSpeed * 10 * time.Minute
	}
	e := threat.NewEngine(cfg)
	threat.LagosYear(base, 700_000, 42).Generate(e.Add)
	e.Refresh()

	km := func(n, east float64) geo.Point {
		return geo.NewPoint(threat.Lagos.Lat()+n/111.195, threat.Lagos.Lng()+east/110.4)
	}
	box := func(half float64, i int) threat.Box {
		c := km(float64(i%9)-4, float64(i%7)-3)
		return threat.Box{MinLng: c.Lng() - half/110.4, MinLat: c.Lat() - half/111.195, MaxLng: c.Lng() + half/110.4, MaxLat: c.Lat() + half/111.195}
	}
	routes := queryRoutes(km)
	queries := []struct {
		name string
		run  func(i int) error
	}{
		{"route-30km", func(int) error { _, err := e.Route(threat.RouteQuery{Path: routes[0]}); return err }},
		{"routes", func(i int) error { _, err := e.Route(threat.RouteQuery{Path: routes[i%len(routes)]}); return err }},
		{"route-500km", func(int) error {
			_, err := e.Route(threat.RouteQuery{Path: []geo.Point{km(-3, -249), km(3, 249)}})
			return err
		}},
		{"zones-20km", func(i int) error { _, _, err := e.Zones(threat.Query{}, box(10, 0), "", 0); return err }},
		{"zones-5km", func(i int) error { _, _, err := e.Zones(threat.Query{}, box(2.5, i), "", 0); return err }},
		{"heatmap-20km-250m", func(i int) error { _, err := e.Heatmap(threat.Query{}, box(10, 0), 250); return err }},
		{"heatmap-2km-250m", func(i int) error { _, err := e.Heatmap(threat.Query{}, box(1, i), 250); return err }},
		{"score", func(i int) error {
			_, err := e.Score(threat.ScoreQuery{Location: km(float64(i%41)/2-10, float64(i%37)/2-9)})
			return err
		}},
		{"analytics", func(i int) error {
			_, err := e.Analytics(threat.AnalyticsQuery{Location: km(float64(i%9)-4, float64(i%7)-3)})
			return err
		}},
	}
	if live {
		started.Store(time.Now().UnixNano())
	}
	rng := rand.New(rand.NewPCG(50, 1))
	wallStart, arrived := time.Now(), 0
	arrive := func() {
		if !live {
			return
		}
		for due := int(50 * time.Since(wallStart).Seconds()); arrived < due; arrived++ {
			r, th := 30*math.Sqrt(rng.Float64()), 2*math.Pi*rng.Float64()
			e.Add(threat.Report{At: clock(), Location: km(r*math.Cos(th), r*math.Sin(th)),
				Category: threat.Categories[rng.IntN(4)], Severity: threat.Severities[rng.IntN(4)]})
		}
	}
	for _, q := range queries {
		b.Run(q.name, func(b *testing.B) {
			var each []time.Duration
			i := 0
			total := processCPU()
			for b.Loop() {
				arrive()
				c := processCPU()
				if err := q.run(i); err != nil {
					b.Fatal(err)
				}
				each = append(each, processCPU()-c)
				i++
			}
			total = processCPU() - total
			slices.Sort(each)
			b.ReportMetric(float64(total.Nanoseconds())/1e3/float64(len(each)), "cpu-µs/op")
			b.ReportMetric(float64(each[len(each)/2].Nanoseconds())/1e3, "cpu-p50-µs")
		})
	}
	if live {
		b.Logf("live: %d incidents arrived in %v", arrived, time.Since(wallStart).Round(time.Millisecond))
	}
}

// queryRoutes are 25 routes across the 30 km around Lagos: a 30 km one; 12
// of 2–8 waypoints in legs of 0.5–8 km; 12 as a router draws them, 50–500
// points 20–100 m apart (the routes of the package's BenchmarkRoutes).
func queryRoutes(km func(n, e float64) geo.Point) [][]geo.Point {
	routes := [][]geo.Point{{km(-12, -15), km(-4, -5), km(2, 3), km(8, 14)}}
	rng := rand.New(rand.NewPCG(27, 7))
	for range 12 {
		n, e := rng.Float64()*30-15, rng.Float64()*30-15
		path := []geo.Point{km(n, e)}
		for range 1 + rng.IntN(7) {
			leg, th := 0.5+rng.Float64()*7.5, rng.Float64()*2*math.Pi
			n, e = n+leg*math.Cos(th), e+leg*math.Sin(th)
			path = append(path, km(n, e))
		}
		routes = append(routes, path)
	}
	for range 12 {
		n, e := rng.Float64()*30-15, rng.Float64()*30-15
		th := rng.Float64() * 2 * math.Pi
		path := []geo.Point{km(n, e)}
		for k := 50 + rng.IntN(451); len(path) < k; {
			step := 0.02 + rng.Float64()*0.08
			th += rng.NormFloat64() * 0.3
			n, e = n+step*math.Cos(th), e+step*math.Sin(th)
			path = append(path, km(n, e))
		}
		routes = append(routes, path)
	}
	return routes
}

// processCPU is the CPU this process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

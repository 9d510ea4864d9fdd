package threat

import (
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sety-io/sety/internal/cputime"
)

// BenchmarkRoutesCold times the 30 km route of BenchmarkRoutes with the
// caches evicted before every call (SETY_EVICT_MB megabytes read, 48 by
// default): the route, its sweep alone and its study alone.
func BenchmarkRoutesCold(b *testing.B) {
	_, e := million()
	path := benchRoutes()[0]
	mb := 48
	if v, err := strconv.Atoi(os.Getenv("SETY_EVICT_MB")); err == nil {
		mb = v
	}
	buf := make([]uint64, mb<<20/8)
	for i := range buf {
		buf[i] = uint64(i)
	}
	var sink uint64
	evict := func() {
		s := uint64(0)
		for i := 0; i < len(buf); i += 8 {
			s += buf[i]
		}
		sink += s
	}
	r, err := e.Route(RouteQuery{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	cs := make([]corridor, len(r.Segments))
	for i, s := range r.Segments {
		cs[i] = *newCorridor(s.From, s.To, 150)
	}
	w, _ := e.window(Query{})
	tallies := make([]segmentTally, len(cs))
	var hours [24]int
	for _, bc := range []struct {
		name string
		run  func()
	}{
		{"route", func() {
			if _, err := e.Route(RouteQuery{Path: path}); err != nil {
				b.Fatal(err)
			}
		}},
		{"sweep", func() {
			e.rlock(&w)
			clear(tallies)
			e.weighCorridors(&w, cs, false, tallies, &hours)
			e.mu.RUnlock()
		}},
		{"study", func() {
			e.rlock(&w)
			e.routeZones(&w, r.Segments, cs, 150)
			e.mu.RUnlock()
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var ds, cpu []time.Duration
			for b.Loop() {
				evict()
				c0, start := cputime.Process(), time.Now()
				bc.run()
				ds, cpu = append(ds, time.Since(start)), append(cpu, cputime.Process()-c0)
			}
			slices.Sort(ds)
			slices.Sort(cpu)
			b.ReportMetric(float64(ds[len(ds)/2].Nanoseconds())/1e3, "p50-µs")
			b.ReportMetric(float64(cpu[len(cpu)/2].Nanoseconds())/1e3, "cpu-p50-µs")
		})
	}
	_ = sink
}

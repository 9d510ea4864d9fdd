package threat_test

import (
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/threat"
)

// The million-incident data set: a year around Lagos (700,000 background
// incidents within 30 km and 280,000 in four planted hot spots).
var (
	bigOnce   sync.Once
	bigEngine *threat.Engine
	bigHeapMB float64
	bigLoad   time.Duration
)

func loadMillion() *threat.Engine {
	bigOnce.Do(func() {
		var reports []threat.Report
		threat.LagosYear(now, 700_000, 42).Generate(func(r threat.Report) { reports = append(reports, r) })
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		e := threat.NewEngine(threat.Config{Now: func() time.Time { return now }})
		for _, r := range reports {
			e.Add(r)
		}
		e.Refresh()
		bigLoad = time.Since(start)
		runtime.GC()
		runtime.ReadMemStats(&after)
		bigHeapMB = float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
		bigEngine = e
		runtime.KeepAlive(reports)
	})
	return bigEngine
}

// box20km is a 20 km × 20 km box around central Lagos.
var box20km = threat.Box{MinLng: at(0, -10).Lng(), MinLat: at(-10, 0).Lat(), MaxLng: at(0, 10).Lng(), MaxLat: at(10, 0).Lat()}

// BenchmarkEngine measures every query over 1,000,000 incidents. Run on
// one core:
//
//	go test ./threat -run '^$' -bench Engine -cpu 1 -benchtime 2000x
func BenchmarkEngine(b *testing.B) {
	e := loadMillion()
	b.Logf("%d incidents loaded in %v; engine heap %.0f MB", e.Len(), bigLoad.Round(time.Millisecond), bigHeapMB)

	b.Run("load", func(b *testing.B) {
		for b.Loop() {
			_ = e.Len()
		}
		b.ReportMetric(float64(e.Len()), "incidents")
		b.ReportMetric(bigHeapMB, "heap-MB")
		b.ReportMetric(bigLoad.Seconds(), "load-s")
	})
	b.Run("ingest", func(b *testing.B) {
		r := threat.Report{At: now.Add(-time.Hour), Location: at(1, 1), Category: threat.SOS, Severity: threat.High}
		i := 0
		for b.Loop() {
			r.Location = at(float64(i%200)/10-10, float64(i%97)/5-10)
			e.Add(r)
			i++
		}
	})
	b.Run("score", func(b *testing.B) {
		var durations []time.Duration
		i := 0
		for b.Loop() {
			p := at(float64(i%41)/2-10, float64(i%37)/2-9)
			start := time.Now()
			if _, err := e.Score(threat.ScoreQuery{Location: p}); err != nil {
				b.Fatal(err)
			}
			durations = append(durations, time.Since(start))
			i++
		}
		slices.Sort(durations)
		b.ReportMetric(float64(durations[len(durations)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(durations[len(durations)*99/100].Microseconds()), "p99-µs")
	})
	b.Run("heatmap-20km-250m", func(b *testing.B) {
		for b.Loop() {
			if _, err := e.Heatmap(threat.Query{}, box20km, 250); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("zones-20km", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := e.Zones(threat.Query{}, box20km, "", 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("route-30km", func(b *testing.B) {
		path := []geo.Point{at(-12, -15), at(-4, -5), at(2, 3), at(8, 14)} // about 30 km
		for b.Loop() {
			if _, err := e.Route(threat.RouteQuery{Path: path}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("analytics", func(b *testing.B) {
		for b.Loop() {
			if _, err := e.Analytics(threat.AnalyticsQuery{Location: threat.Lagos}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

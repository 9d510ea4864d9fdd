package threat_test

import (
	"math"
	"testing"
	"time"

	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/threat"
)

// A route across the antimeridian follows the great circle: 2.2 km, not
// 40,000 km of longitude; so does one past the pole.
func TestRouteIsGeodesic(t *testing.T) {
	e := threat.NewEngine(threat.Config{Now: func() time.Time { return now }})
	tests := []struct {
		name string
		path []geo.Point
	}{
		{"antimeridian", []geo.Point{{-179.99, 0}, {179.99, 0}}},
		{"antimeridian north", []geo.Point{{179.995, 65}, {-179.995, 65.001}, {179.99, 65.002}}},
		{"over the pole", []geo.Point{{0, 89.999}, {180, 89.999}}},
		{"near the pole", []geo.Point{{-45, 89.99}, {45, 89.99}, {135, 89.99}}},
	}
	for _, tt := range tests {
		var want float64
		for i := 0; i+1 < len(tt.path); i++ {
			want += geo.Distance(tt.path[i], tt.path[i+1])
		}
		r, err := e.Route(threat.RouteQuery{Path: tt.path})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if math.Abs(r.DistanceMeters-want) > 1 {
			t.Errorf("%s: %v m, want %.0f", tt.name, r.DistanceMeters, want)
		}
		var sum float64
		for i, s := range r.Segments {
			d := geo.Distance(s.From, s.To)
			sum += d
			if d > 500.5 || math.Abs(d-s.DistanceMeters) > 1 {
				t.Errorf("%s: segment %d %v–%v is %.1f m (says %v)", tt.name, i, s.From, s.To, d, s.DistanceMeters)
			}
			if i > 0 && s.From != r.Segments[i-1].To {
				t.Errorf("%s: segment %d does not start where %d ends", tt.name, i, i-1)
			}
			for _, p := range []geo.Point{s.From, s.To} {
				if p.Validate("p") != nil {
					t.Errorf("%s: segment %d has point %v", tt.name, i, p)
				}
			}
		}
		if math.Abs(sum-want) > 1 || len(r.Segments) != int(math.Ceil(want/500))+len(tt.path)-2 && len(tt.path) == 2 {
			t.Errorf("%s: %d segments add up to %.1f m, want %.1f", tt.name, len(r.Segments), sum, want)
		}
	}
	if r, _ := e.Route(threat.RouteQuery{Path: []geo.Point{{-179.99, 0}, {179.99, 0}}}); len(r.Segments) != 5 {
		t.Fatalf("the 2.2 km antimeridian route has %d segments, want 5", len(r.Segments))
	}
	// Too long.
	if _, err := e.Route(threat.RouteQuery{Path: []geo.Point{{0, 0}, {4.6, 0}}}); err == nil {
		t.Fatal("a 511 km route was accepted")
	}
}

// zigzag is the worst route the API accepts: 500 points zig-zagging across
// the antimeridian, 499 legs of about 1 km, just under 500 km.
func zigzag() []geo.Point {
	var path []geo.Point
	for i := range 500 {
		lng := 179.9955
		if i%2 == 1 {
			lng = -179.9955
		}
		path = append(path, geo.Point{lng, float64(i) * 0.0001})
	}
	return path
}

// demo is the example server's demo history: 25,000 background incidents
// around Lagos and its planted spots.
func demo() *threat.Engine {
	e := threat.NewEngine(threat.Config{Now: func() time.Time { return now }})
	threat.LagosYear(now, 25_000, 6).Generate(e.Add)
	e.Refresh()
	return e
}

func TestRouteWorstCase(t *testing.T) {
	r, err := demo().Route(threat.RouteQuery{Path: zigzag(), BufferM: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if r.DistanceMeters > threat.MaxRouteM || r.DistanceMeters < 0.99*threat.MaxRouteM || len(r.Segments) > 1499 {
		t.Fatalf("zig-zag: %.0f m in %d segments", r.DistanceMeters, len(r.Segments))
	}
}

// BenchmarkRouteWorstCase times the zig-zag on the demo history, at the
// widest buffer.
//
//	go test ./threat -run '^$' -bench RouteWorstCase -cpu 1
func BenchmarkRouteWorstCase(b *testing.B) {
	e := demo()
	path := zigzag()
	for b.Loop() {
		if _, err := e.Route(threat.RouteQuery{Path: path, BufferM: 1000}); err != nil {
			b.Fatal(err)
		}
	}
}

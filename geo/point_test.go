package geo_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sety-io/sety/geo"
)

func TestPointJSONIsLngLat(t *testing.T) {
	p := geo.NewPoint(6.5244, 3.3792)
	got, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := "[3.3792,6.5244]"; string(got) != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		p    geo.Point
		ok   bool
	}{
		{"lagos", geo.NewPoint(6.5244, 3.3792), true},
		{"corners", geo.Point{180, -90}, true},
		{"lat too big", geo.Point{0, 90.0001}, false},
		{"lng too small", geo.Point{-180.5, 0}, false},
		{"nan", geo.Point{math.NaN(), 0}, false},
		{"inf", geo.Point{0, math.Inf(1)}, false},
	}
	for _, tt := range tests {
		err := tt.p.Validate("location.coordinates")
		if (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestDistance(t *testing.T) {
	// Lagos (Ikeja) to Victoria Island is about 20.3 km in a straight line.
	ikeja := geo.NewPoint(6.6018, 3.3515)
	vi := geo.NewPoint(6.4281, 3.4219)
	got := geo.Distance(ikeja, vi)
	if got < 20000 || got > 21000 {
		t.Fatalf("Distance = %.0f m, want about 20.7 km", got)
	}
	if d := geo.Distance(vi, vi); d != 0 {
		t.Fatalf("Distance to itself = %v, want 0", d)
	}
	// One degree of latitude is about 111.2 km everywhere.
	if d := geo.Distance(geo.NewPoint(0, 0), geo.NewPoint(1, 0)); math.Abs(d-111195) > 10 {
		t.Fatalf("one degree = %.0f m, want 111195", d)
	}
}

// PathDistances gives every leg's Distance to the bit, and Distance is the
// haversine formula as written out here, on random paths across the
// globe, across the antimeridian and to the poles, with repeated points.
func TestPathDistancesAreDistances(t *testing.T) {
	rad := func(deg float64) float64 { return deg * math.Pi / 180 }
	haversine := func(a, b geo.Point) float64 {
		lat1, lat2 := rad(a.Lat()), rad(b.Lat())
		dLat, dLng := lat2-lat1, rad(b.Lng()-a.Lng())
		h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1)*math.Cos(lat2)*math.Sin(dLng/2)*math.Sin(dLng/2)
		return 2 * geo.EarthRadiusMeters * math.Asin(math.Min(1, math.Sqrt(h)))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var out []float64
	for n := range 200 {
		path := make([]geo.Point, n)
		for i := range path {
			switch {
			case i > 0 && rng.IntN(8) == 0:
				path[i] = path[i-1]
			case n%3 == 0:
				path[i] = geo.NewPoint(rng.Float64()*180-90, rng.Float64()*360-180)
			default: // near the antimeridian or a pole
				path[i] = geo.NewPoint(math.Copysign(89.9+rng.Float64()*0.1, rng.Float64()-0.5)*float64(n%2)+rng.Float64()*float64(1-n%2),
					math.Copysign(179.99+rng.Float64()*0.01, rng.Float64()-0.5))
			}
		}
		out = geo.PathDistances(path, out)
		if want := max(0, n-1); len(out) != want {
			t.Fatalf("%d points: %d legs, want %d", n, len(out), want)
		}
		for i, d := range out {
			want := geo.Distance(path[i], path[i+1])
			if d != want || want != haversine(path[i], path[i+1]) {
				t.Fatalf("%v to %v: PathDistances %v, Distance %v, haversine %v", path[i], path[i+1], d, want, haversine(path[i], path[i+1]))
			}
		}
	}
}

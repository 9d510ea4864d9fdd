package geo_test

import (
	"encoding/json"
	"math"
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

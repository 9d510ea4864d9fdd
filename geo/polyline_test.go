package geo_test

import (
	"math"
	"testing"

	"github.com/sety-io/sety/geo"
)

// The example of the algorithm's documentation.
func TestDecodePolyline(t *testing.T) {
	pts, err := geo.DecodePolyline("_p~iF~ps|U_ulLnnqC_mqNvxq`@")
	if err != nil {
		t.Fatal(err)
	}
	want := []geo.Point{{-120.2, 38.5}, {-120.95, 40.7}, {-126.453, 43.252}}
	if len(pts) != len(want) {
		t.Fatalf("got %v", pts)
	}
	for i := range want {
		if math.Abs(pts[i][0]-want[i][0]) > 1e-9 || math.Abs(pts[i][1]-want[i][1]) > 1e-9 {
			t.Fatalf("point %d = %v, want %v", i, pts[i], want[i])
		}
	}
	if got := geo.EncodePolyline(want); got != "_p~iF~ps|U_ulLnnqC_mqNvxq`@" {
		t.Fatalf("encode = %q", got)
	}
	for _, bad := range []string{"_p~iF~ps|U_", "_p~iF~ps|U\x01\x02", "~~~~~~~~~~~~~~~~~"} {
		if _, err := geo.DecodePolyline(bad); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
}

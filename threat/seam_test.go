package threat

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sety-io/sety/geo"
)

func TestBoxAcrossTheAntimeridian(t *testing.T) {
	for _, tc := range []struct {
		box   Box
		ok    bool
		width float64
	}{
		{Box{3.3, 6.4, 3.5, 6.6}, true, 0.2},
		{Box{179.9, -16.6, -179.9, -16.4}, true, 0.2},
		{Box{-180, -90, 180, 90}, true, 360},
		{Box{180, 0, -180, 1}, false, 0},
		{Box{10, 0, 10, 1}, false, 0},
		{Box{3.3, 6.6, 3.5, 6.4}, false, 0},
		{Box{3.3, 6.4, 181, 6.6}, false, 0},
		{Box{math.NaN(), 6.4, 3.5, 6.6}, false, 0},
	} {
		err := tc.box.Validate("bbox")
		if (err == nil) != tc.ok || tc.ok && math.Abs(tc.box.width()-tc.width) > 1e-9 {
			t.Errorf("%v: error %v, width %v", tc.box, err, tc.box.width())
		}
	}
	b := Box{179.9, -16.6, -179.9, -16.4}
	for lng, in := range map[float64]bool{179.95: true, 180: true, -180: true, -179.95: true, -179.9: true, 179.9: true, 0: false, -179.8: false, 179.8: false} {
		if b.contains(lng, -16.5) != in {
			t.Errorf("%v holds %v: %v", b, lng, !in)
		}
	}
}

// boxAround holds every point of its circle: across the antimeridian, near
// the poles and over them.
func TestBoxAroundHoldsItsCircle(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 31))
	for i := range 2000 {
		p := geo.Point{rng.Float64()*360 - 180, rng.Float64()*180 - 90}
		switch i % 4 {
		case 0:
			p[0] = 180 - rng.Float64()*0.2
		case 1:
			p[1] = 90 - rng.Float64()*0.2
		}
		r := 100 + rng.Float64()*9900
		box := boxAround(p, r)
		if err := box.Validate("bbox"); err != nil {
			t.Fatalf("around %v, %v m: %v %v", p, r, box, err)
		}
		for k := range 64 {
			q := destination(p, float64(k)/64*2*math.Pi, r*(1-1e-9))
			if !box.contains(q.Lng(), q.Lat()) {
				t.Fatalf("the box %v around %v (%v m) misses %v", box, p, r, q)
			}
		}
	}
}

// destination is the point distance metres from p at a bearing (radians).
func destination(p geo.Point, bearing, distance float64) geo.Point {
	d := distance / geo.EarthRadiusMeters
	φ1, λ1 := p.Lat()*degToRad, p.Lng()*degToRad
	φ2 := math.Asin(math.Sin(φ1)*math.Cos(d) + math.Cos(φ1)*math.Sin(d)*math.Cos(bearing))
	λ2 := λ1 + math.Atan2(math.Sin(bearing)*math.Sin(d)*math.Cos(φ1), math.Cos(d)-math.Sin(φ1)*math.Sin(φ2))
	return geo.Point{math.Remainder(λ2/degToRad, 360), φ2 / degToRad}
}

func TestCutAtAntimeridian(t *testing.T) {
	inside := []geo.Point{{10, 0}, {11, 0}, {11, 1}, {10, 1}, {10, 0}}
	if parts := cutAtAntimeridian(inside); len(parts) != 1 || len(parts[0]) != 5 {
		t.Fatalf("a ring away from the seam: %v", parts)
	}
	across := []geo.Point{{179, 0}, {182, 0}, {182, 2}, {179, 2}, {179, 0}} // counterclockwise
	parts := cutAtAntimeridian(across)
	if len(parts) != 2 {
		t.Fatalf("%d parts", len(parts))
	}
	area := 0.0
	for i, p := range parts {
		a := ringArea(p)
		if p[0] != p[len(p)-1] || a <= 0 {
			t.Fatalf("part %d not closed or not counterclockwise: %v", i, p)
		}
		for _, q := range p {
			if q.Lng() < -180 || q.Lng() > 180 {
				t.Fatalf("part %d: %v", i, p)
			}
		}
		area += a
	}
	if math.Abs(area-ringArea(across)) > 1e-12 || parts[0][0].Lng() < 0 {
		t.Fatalf("parts %v cover %v deg², the ring %v", parts, area, ringArea(across))
	}
	west := cutAtAntimeridian([]geo.Point{{-181, 0}, {-179, 0}, {-179, 1}, {-181, 1}, {-181, 0}})
	if len(west) != 2 || west[0][0].Lng() < 179 {
		t.Fatalf("a ring across −180: %v", west)
	}
	if l := cutLine(geo.Point{179.5, 0}, geo.Point{-179.5, 1}); len(l) != 2 || l[0][1] != (geo.Point{180, 0.5}) || l[1][0] != (geo.Point{-180, 0.5}) {
		t.Fatalf("a line across the seam: %v", l)
	}
	if l := cutLine(geo.Point{-179.5, 0}, geo.Point{179.5, 1}); len(l) != 2 || l[0][1] != (geo.Point{-180, 0.5}) {
		t.Fatalf("a line across the seam westward: %v", l)
	}
	if l := cutLine(geo.Point{3, 6}, geo.Point{4, 7}); len(l) != 1 {
		t.Fatalf("a line away from it: %v", l)
	}
}

// Incidents a centimetre inside a box's edges count, once, and those a
// centimetre outside do not, across the antimeridian too. (The engine
// keeps positions to about 25 µm, so a point exactly on an edge may fall
// either side of it.)
func TestHeatmapCountsTheBoxEdges(t *testing.T) {
	const cm = 1e-7 // degrees
	for _, box := range []Box{{3.3, 6.4, 3.5, 6.6}, {179.9, -16.6, -179.9, -16.4}, {179.9, -16.6, 180, -16.4}, {-180, -16.6, -179.9, -16.4}} {
		west, east := box.MinLng+cm, box.MaxLng-cm
		var reports []Report
		for _, p := range []geo.Point{ // five inside, four outside
			{west, box.MinLat + cm}, {east, box.MaxLat - cm}, {west, box.MaxLat - cm}, {east, box.MinLat + cm}, {west, (box.MinLat + box.MaxLat) / 2},
			{box.MinLng - cm, box.MinLat + cm}, {west, box.MinLat - cm}, {box.MaxLng + cm, box.MaxLat - cm}, {east, box.MaxLat + cm},
		} {
			p[0] = math.Remainder(p[0], 360)
			reports = append(reports, Report{At: exactNow.Add(-time.Hour), Location: p, Category: SOS, Severity: High})
		}
		e, b := loadExact(t, reports)
		for _, cellM := range []float64{50, 250, 5000} {
			h, err := e.Heatmap(Query{}, box, cellM)
			if err != nil {
				t.Fatal(err)
			}
			if h.TotalIncidents != 5 {
				t.Fatalf("%v at %v m: %d incidents, want the 5 just inside its edges", box, cellM, h.TotalIncidents)
			}
			checkHeatmapCounts(t, b, h, box, cellM, 90, "")
		}
	}
}

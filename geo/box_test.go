package geo

import (
	"math/rand/v2"
	"testing"
)

// Every point within the radius is in the box, also across the antimeridian
// and near the poles.
func TestBoxAroundHoldsTheCircle(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	centres := []Point{NewPoint(6.45, 3.4), NewPoint(0, 179.99), NewPoint(-10, -179.9), NewPoint(89.9, 10), NewPoint(-89.5, 0), NewPoint(60, 179.5)}
	for _, c := range centres {
		for _, radius := range []float64{500, 50_000, 400_000} {
			b := BoxAround(c, radius)
			for range 2000 {
				p := NewPoint(c.Lat()+(rng.Float64()*2-1)*4, c.Lng()+(rng.Float64()*2-1)*8)
				if p.Lng() > 180 {
					p[0] -= 360
				}
				if p.Lng() < -180 {
					p[0] += 360
				}
				if p.Lat() > 90 || p.Lat() < -90 {
					continue
				}
				if Distance(c, p) <= radius && !b.Contains(p) {
					t.Fatalf("box %+v around %v (r %.0f) misses %v at %.0f m", b, c, radius, p, Distance(c, p))
				}
			}
		}
	}
	if b := BoxAround(NewPoint(0, 3.4), 1000); b.WrapMinLng <= b.WrapMaxLng {
		t.Fatalf("a box far from the antimeridian has a wrapped range: %+v", b)
	}
}

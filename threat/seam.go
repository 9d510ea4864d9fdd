package threat

import (
	"math"

	"github.com/sety-io/sety/geo"
)

// Shapes that cross the antimeridian are cut there, as RFC 7946 §3.1.9
// asks of GeoJSON, so that no part's longitudes jump from 180 to −180. The
// engine builds them with longitudes counted on eastward past 180 (a zone's
// cells on a study lattice that crosses the seam).

// cutAtAntimeridian cuts a closed convex ring whose longitudes may run past
// ±180 at every meridian 180 + 360k it crosses, and moves each part into
// [−180, 180]: one part when it crosses none, west part first. Each part is
// closed and keeps the ring's orientation.
func cutAtAntimeridian(ring []geo.Point) [][]geo.Point {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range ring {
		lo, hi = math.Min(lo, p.Lng()), math.Max(hi, p.Lng())
	}
	if lo >= -180 && hi <= 180 {
		return [][]geo.Point{ring}
	}
	var parts [][]geo.Point
	for k := math.Floor((lo + 180) / 360); k*360-180 < hi; k++ {
		west, east := k*360-180, k*360+180
		if east <= lo {
			continue
		}
		part := clipLng(clipLng(ring, west, true), east, false)
		if len(part) < 4 {
			continue // touches the meridian only
		}
		for i := range part {
			part[i] = geo.Point{part[i].Lng() - k*360, part[i].Lat()}
		}
		parts = append(parts, part)
	}
	return parts
}

// clipLng keeps the part of a closed ring east of lng (east) or west of it
// (Sutherland–Hodgman against one meridian); the result is closed, or
// empty.
func clipLng(ring []geo.Point, lng float64, east bool) []geo.Point {
	inside := func(p geo.Point) bool { return east && p.Lng() >= lng || !east && p.Lng() <= lng }
	var out []geo.Point
	for i := 0; i+1 < len(ring); i++ {
		a, b := ring[i], ring[i+1]
		if inside(a) {
			out = append(out, a)
		}
		if inside(a) != inside(b) && a.Lng() != lng && b.Lng() != lng {
			f := (lng - a.Lng()) / (b.Lng() - a.Lng())
			out = append(out, geo.Point{lng, a.Lat() + f*(b.Lat()-a.Lat())})
		}
	}
	if len(out) == 0 {
		return nil
	}
	return append(out, out[0])
}

// spansLng reports whether a ring reaches from west of lng to east of it.
func spansLng(ring []geo.Point, lng float64) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range ring {
		lo, hi = math.Min(lo, p.Lng()), math.Max(hi, p.Lng())
	}
	return lng >= lo && lng <= hi
}

// cutLine cuts the straight line from a to b (in longitude and latitude,
// taking the short way round) where it crosses the antimeridian: one
// piece, or two meeting at ±180.
func cutLine(a, b geo.Point) [][]geo.Point {
	d := wrapLng(b.Lng() - a.Lng())
	end := a.Lng() + d // b's longitude, counted on from a's
	if end <= 180 && end >= -180 {
		return [][]geo.Point{{a, b}}
	}
	seam := 180.0
	if end < -180 {
		seam = -180
	}
	lat := a.Lat() + (seam-a.Lng())/d*(b.Lat()-a.Lat())
	return [][]geo.Point{{a, {seam, lat}}, {{-seam, lat}, b}}
}

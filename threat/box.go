package threat

import (
	"math"

	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/setyerr"
)

// Box is a bounding box in degrees, edges included. With MinLng > MaxLng
// it crosses the antimeridian: it runs east from MinLng past ±180 to
// MaxLng (as a GeoJSON bbox does, RFC 7946 §5.2).
type Box struct{ MinLng, MinLat, MaxLng, MaxLat float64 }

// Validate checks the box's ranges and order, naming field.
func (b Box) Validate(field string) error {
	for _, p := range []geo.Point{{b.MinLng, b.MinLat}, {b.MaxLng, b.MaxLat}} {
		if err := p.Validate(field); err != nil {
			return setyerr.Invalidf(field, "%v", err)
		}
	}
	if b.MinLat >= b.MaxLat || b.width() <= 0 {
		return setyerr.Invalidf(field, "must be minLng,minLat,maxLng,maxLat with minLat < maxLat and minLng ≠ maxLng (minLng > maxLng crosses the antimeridian)")
	}
	return nil
}

// Crosses reports whether the box crosses the antimeridian.
func (b Box) Crosses() bool { return b.MinLng > b.MaxLng }

// width is the box's extent in degrees of longitude, east from MinLng.
func (b Box) width() float64 {
	if b.Crosses() {
		return b.MaxLng + 360 - b.MinLng
	}
	return b.MaxLng - b.MinLng
}

// eastOf is how far east of the box's west edge a longitude lies, in
// [0, 360).
func (b Box) eastOf(lng float64) float64 { return east360(lng - b.MinLng) }

// east360 brings a longitude difference into [0, 360): conditional adds,
// not math.Mod, which costs more than a heatmap's whole test of a cell.
func east360(d float64) float64 {
	for d < 0 {
		d += 360
	}
	for d >= 360 {
		d -= 360
	}
	return d
}

// contains reports whether a point lies in the box, edges included.
func (b Box) contains(lng, lat float64) bool {
	return lat >= b.MinLat && lat <= b.MaxLat && (b.eastOf(lng) <= b.width() || b.width() >= 360)
}

// boxAround is the smallest box that holds every point within r metres
// (great-circle) of p: across the antimeridian where the circle crosses
// it, every longitude where it holds a pole.
func boxAround(p geo.Point, r float64) Box {
	dLat := r / metersPerDegree
	lat0, lat1 := math.Max(-90, p.Lat()-dLat), math.Min(90, p.Lat()+dLat)
	ang := r / geo.EarthRadiusMeters
	s := math.Sin(ang) / math.Cos(p.Lat()*degToRad)
	if lat0 <= -90 || lat1 >= 90 || s >= 1 {
		return Box{-180, lat0, 180, lat1}
	}
	dLng := math.Asin(s) / degToRad
	return Box{wrapLng(p.Lng() - dLng), lat0, wrapLng(p.Lng() + dLng), lat1}
}

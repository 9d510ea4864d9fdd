package geo

import (
	"fmt"
	"math"
)

// Point is a position as [longitude, latitude] in degrees (WGS 84), the order
// GeoJSON and the Sety API use. It marshals to a two-element JSON array.
type Point [2]float64

// NewPoint returns the point at the given latitude and longitude. The argument
// order follows speech ("lat, lng"); the stored order follows GeoJSON.
func NewPoint(lat, lng float64) Point { return Point{lng, lat} }

// Lng returns the longitude in degrees.
func (p Point) Lng() float64 { return p[0] }

// Lat returns the latitude in degrees.
func (p Point) Lat() float64 { return p[1] }

// Validate reports why p is not a usable position: a coordinate that is NaN,
// infinite or out of range. The error text starts with field so a caller can
// name the offending input.
func (p Point) Validate(field string) error {
	if err := CheckLng(p.Lng()); err != nil {
		return fmt.Errorf("%s: longitude %w", field, err)
	}
	if err := CheckLat(p.Lat()); err != nil {
		return fmt.Errorf("%s: latitude %w", field, err)
	}
	return nil
}

// CheckLat reports whether lat is a finite latitude in [-90, 90].
func CheckLat(lat float64) error { return checkRange(lat, 90) }

// CheckLng reports whether lng is a finite longitude in [-180, 180].
func CheckLng(lng float64) error { return checkRange(lng, 180) }

func checkRange(v, limit float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("must be a finite number")
	}
	if v < -limit || v > limit {
		return fmt.Errorf("must be between -%g and %g", limit, limit)
	}
	return nil
}

// EarthRadiusMeters is the mean Earth radius used for great-circle distances.
const EarthRadiusMeters = 6371008.8

// Distance returns the great-circle (haversine) distance between a and b in
// meters. Haversine stays accurate at the short distances dispatch cares
// about, where the spherical law of cosines loses precision.
func Distance(a, b Point) float64 {
	lat1, lat2 := radians(a.Lat()), radians(b.Lat())
	return haversine(a, b, lat1, lat2, math.Cos(lat1), math.Cos(lat2))
}

// PathDistances sets out[i] to Distance(path[i], path[i+1]) for every leg
// of path, to the bit, working out each point's cosine once rather than
// twice (a router's path has hundreds of points), and returns out, grown
// to len(path) − 1 if need be.
func PathDistances(path []Point, out []float64) []float64 {
	out = out[:0]
	if len(path) < 2 {
		return out
	}
	lat1 := radians(path[0].Lat())
	cos1 := math.Cos(lat1)
	for i := 1; i < len(path); i++ {
		lat2 := radians(path[i].Lat())
		cos2 := math.Cos(lat2)
		out = append(out, haversine(path[i-1], path[i], lat1, lat2, cos1, cos2))
		lat1, cos1 = lat2, cos2
	}
	return out
}

// haversine is the distance from a to b, at latitudes lat1 and lat2 (in
// radians) whose cosines are cos1 and cos2.
func haversine(a, b Point, lat1, lat2, cos1, cos2 float64) float64 {
	dLat := lat2 - lat1
	dLng := radians(b.Lng() - a.Lng())
	sLat, sLng := math.Sin(dLat/2), math.Sin(dLng/2)
	h := sLat*sLat + cos1*cos2*sLng*sLng
	return 2 * EarthRadiusMeters * math.Asin(math.Min(1, math.Sqrt(h)))
}

func radians(deg float64) float64 { return deg * math.Pi / 180 }

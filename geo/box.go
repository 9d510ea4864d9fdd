package geo

import "math"

// Box is a latitude/longitude box that holds every point within some
// distance of a centre, for a range query on indexed coordinates. A box
// that crosses the antimeridian is two longitude ranges: [MinLng, MaxLng]
// and [WrapMinLng, WrapMaxLng] (an empty range, Min > Max, when it does
// not). Near a pole it spans every longitude.
type Box struct {
	MinLat, MaxLat         float64
	MinLng, MaxLng         float64
	WrapMinLng, WrapMaxLng float64
}

// BoxAround returns the box holding every point within radiusM metres of
// at. It may hold more (its corners); callers filter by Distance.
func BoxAround(at Point, radiusM float64) Box {
	dLat := radiusM / EarthRadiusMeters * 180 / math.Pi
	b := Box{MinLat: math.Max(-90, at.Lat()-dLat), MaxLat: math.Min(90, at.Lat()+dLat), WrapMinLng: 1, WrapMaxLng: 0}
	cos := math.Cos(radians(math.Max(math.Abs(b.MinLat), math.Abs(b.MaxLat))))
	if cos < 1e-9 || b.MinLat == -90 || b.MaxLat == 90 {
		b.MinLng, b.MaxLng = -180, 180 // a pole is inside: every longitude
		return b
	}
	dLng := dLat / cos
	if dLng >= 180 {
		b.MinLng, b.MaxLng = -180, 180
		return b
	}
	b.MinLng, b.MaxLng = at.Lng()-dLng, at.Lng()+dLng
	switch {
	case b.MinLng < -180:
		b.WrapMinLng, b.WrapMaxLng = b.MinLng+360, 180
		b.MinLng = -180
	case b.MaxLng > 180:
		b.WrapMinLng, b.WrapMaxLng = -180, b.MaxLng-360
		b.MaxLng = 180
	}
	return b
}

// Contains reports whether p is in the box.
func (b Box) Contains(p Point) bool {
	if p.Lat() < b.MinLat || p.Lat() > b.MaxLat {
		return false
	}
	return p.Lng() >= b.MinLng && p.Lng() <= b.MaxLng || p.Lng() >= b.WrapMinLng && p.Lng() <= b.WrapMaxLng
}

package geo

import (
	"errors"
	"math"
)

// DecodePolyline decodes an encoded polyline (Google's algorithm, precision
// 5: 1e-5 degrees) into points.
func DecodePolyline(s string) ([]Point, error) {
	var pts []Point
	var lat, lng int64
	for i := 0; i < len(s); {
		var deltas [2]int64
		for k := range deltas {
			var result int64
			shift := uint(0)
			for {
				if i >= len(s) {
					return nil, errors.New("polyline ends in the middle of a coordinate")
				}
				b := int64(s[i]) - 63
				i++
				if b < 0 || b > 63 {
					return nil, errors.New("polyline has a character outside its alphabet")
				}
				result |= (b & 0x1f) << shift
				shift += 5
				if b < 0x20 {
					break
				}
				if shift > 60 {
					return nil, errors.New("polyline coordinate too long")
				}
			}
			if result&1 != 0 {
				deltas[k] = ^(result >> 1)
			} else {
				deltas[k] = result >> 1
			}
		}
		lat += deltas[0]
		lng += deltas[1]
		pts = append(pts, Point{float64(lng) / 1e5, float64(lat) / 1e5})
	}
	return pts, nil
}

// EncodePolyline encodes points as a precision-5 polyline.
func EncodePolyline(pts []Point) string {
	var out []byte
	var prevLat, prevLng int64
	for _, p := range pts {
		lat, lng := int64(math.Round(p.Lat()*1e5)), int64(math.Round(p.Lng()*1e5))
		for _, d := range []int64{lat - prevLat, lng - prevLng} {
			v := d << 1
			if d < 0 {
				v = ^v
			}
			for v >= 0x20 {
				out = append(out, byte((0x20|(v&0x1f))+63))
				v >>= 5
			}
			out = append(out, byte(v+63))
		}
		prevLat, prevLng = lat, lng
	}
	return string(out)
}

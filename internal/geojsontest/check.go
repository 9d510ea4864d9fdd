// Package geojsontest checks that a body is an RFC 7946 GeoJSON
// FeatureCollection a GIS can load: known geometry types with well-formed
// coordinates, longitudes and latitudes in range, polygon rings closed,
// simple and counterclockwise (the right-hand rule, §3.1.6), and no line
// or ring edge that jumps across the antimeridian instead of being cut
// there (§3.1.9). Ring orientation and closure come from
// github.com/paulmach/orb, not from Sety's own geometry.
package geojsontest

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/paulmach/orb"
)

// Feature is one feature of a collection: its geometry, parsed, and its
// properties and id as raw JSON.
type Feature struct {
	ID         json.RawMessage
	Geometry   orb.Geometry
	Properties map[string]json.RawMessage
}

// Collection is a parsed FeatureCollection and its foreign members.
type Collection struct {
	Features []Feature
	Members  map[string]json.RawMessage // every member but type and features
}

// Parse checks body and returns the collection, or the first way in which
// it is not valid GeoJSON.
func Parse(body []byte) (*Collection, error) {
	var fc map[string]json.RawMessage
	if err := json.Unmarshal(body, &fc); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if string(fc["type"]) != `"FeatureCollection"` {
		return nil, fmt.Errorf("type is %s, want FeatureCollection", fc["type"])
	}
	var raws []map[string]json.RawMessage
	if err := json.Unmarshal(fc["features"], &raws); err != nil || raws == nil {
		return nil, fmt.Errorf("features is not an array: %s", fc["features"])
	}
	out := &Collection{Members: map[string]json.RawMessage{}}
	for k, v := range fc {
		if k != "type" && k != "features" {
			out.Members[k] = v
		}
	}
	if bb, ok := fc["bbox"]; ok {
		var b []float64
		if err := json.Unmarshal(bb, &b); err != nil || len(b) != 4 || b[1] > b[3] {
			return nil, fmt.Errorf("bbox %s is not [west, south, east, north]", bb)
		}
	}
	for i, raw := range raws {
		if string(raw["type"]) != `"Feature"` {
			return nil, fmt.Errorf("feature %d: type %s", i, raw["type"])
		}
		f := Feature{ID: raw["id"]}
		if err := json.Unmarshal(raw["properties"], &f.Properties); err != nil {
			return nil, fmt.Errorf("feature %d: properties: %w", i, err)
		}
		g, err := geometry(raw["geometry"])
		if err != nil {
			return nil, fmt.Errorf("feature %d: %w", i, err)
		}
		f.Geometry = g
		out.Features = append(out.Features, f)
	}
	return out, nil
}

func geometry(raw json.RawMessage) (orb.Geometry, error) {
	var g struct {
		Type        string
		Coordinates json.RawMessage
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil, fmt.Errorf("geometry: %w", err)
	}
	switch g.Type {
	case "LineString":
		var ls orb.LineString
		if err := decode(g.Coordinates, &ls); err != nil {
			return nil, err
		}
		return ls, checkLine(ls)
	case "MultiLineString":
		var mls orb.MultiLineString
		if err := decode(g.Coordinates, &mls); err != nil {
			return nil, err
		}
		for _, ls := range mls {
			if err := checkLine(ls); err != nil {
				return nil, err
			}
		}
		return mls, nil
	case "Polygon":
		var p orb.Polygon
		if err := decode(g.Coordinates, &p); err != nil {
			return nil, err
		}
		return p, checkPolygon(p)
	case "MultiPolygon":
		var mp orb.MultiPolygon
		if err := decode(g.Coordinates, &mp); err != nil {
			return nil, err
		}
		for _, p := range mp {
			if err := checkPolygon(p); err != nil {
				return nil, err
			}
		}
		return mp, nil
	}
	return nil, fmt.Errorf("geometry type %q is not one Sety answers", g.Type)
}

// decode reads coordinates; positions are arrays of exactly two numbers
// here (no altitude), in range.
func decode(raw json.RawMessage, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("coordinates %.80s: %w", raw, err)
	}
	var bad error
	visit(v, func(p orb.Point) {
		if bad == nil && !(p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90) {
			bad = fmt.Errorf("position %v is out of range", p)
		}
	})
	return bad
}

func visit(v any, fn func(orb.Point)) {
	switch g := v.(type) {
	case *orb.LineString:
		for _, p := range *g {
			fn(p)
		}
	case *orb.MultiLineString:
		for _, ls := range *g {
			visit(&ls, fn)
		}
	case *orb.Polygon:
		for _, r := range *g {
			ls := orb.LineString(r)
			visit(&ls, fn)
		}
	case *orb.MultiPolygon:
		for _, p := range *g {
			visit(&p, fn)
		}
	}
}

func checkLine(ls orb.LineString) error {
	if len(ls) < 2 {
		return fmt.Errorf("a LineString of %d positions", len(ls))
	}
	return noSeamJump(ls)
}

// noSeamJump refuses an edge more than 180° of longitude long: drawn on a
// map it would cross the whole world instead of the antimeridian.
func noSeamJump(ps []orb.Point) error {
	for i := 0; i+1 < len(ps); i++ {
		if math.Abs(ps[i+1][0]-ps[i][0]) > 180 {
			return fmt.Errorf("edge %v–%v jumps across the antimeridian instead of being cut there", ps[i], ps[i+1])
		}
	}
	return nil
}

func checkPolygon(p orb.Polygon) error {
	if len(p) == 0 {
		return fmt.Errorf("a Polygon without rings")
	}
	for i, r := range p {
		if !r.Closed() {
			return fmt.Errorf("ring %d is not closed (or has fewer than 4 positions): %v", i, r)
		}
		want := orb.CCW // exterior counterclockwise, holes clockwise
		if i > 0 {
			want = orb.CW
		}
		if r.Orientation() != want {
			return fmt.Errorf("ring %d breaks the right-hand rule: %v", i, r)
		}
		if err := noSeamJump(r); err != nil {
			return err
		}
		if err := simple(r); err != nil {
			return err
		}
	}
	return nil
}

// simple refuses a ring whose edges cross each other.
func simple(r orb.Ring) error {
	n := len(r) - 1
	for i := range n {
		for j := i + 2; j < n; j++ {
			if i == 0 && j == n-1 {
				continue // neighbours across the closing position
			}
			if crosses(r[i], r[i+1], r[j], r[j+1]) {
				return fmt.Errorf("ring edges %v–%v and %v–%v cross", r[i], r[i+1], r[j], r[j+1])
			}
		}
	}
	return nil
}

func crosses(a, b, c, d orb.Point) bool {
	side := func(p, q, r orb.Point) float64 { return (q[0]-p[0])*(r[1]-p[1]) - (q[1]-p[1])*(r[0]-p[0]) }
	d1, d2 := side(c, d, a), side(c, d, b)
	d3, d4 := side(a, b, c), side(a, b, d)
	return (d1 > 0 && d2 < 0 || d1 < 0 && d2 > 0) && (d3 > 0 && d4 < 0 || d3 < 0 && d4 > 0)
}

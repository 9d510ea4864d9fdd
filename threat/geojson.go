package threat

import (
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
)

// The GeoJSON (RFC 7946) form of the answers that have a shape: danger
// zones and heatmap cells as Polygons, route segments as LineStrings, each
// with its JSON fields as properties and the rest of the answer as foreign
// members of the FeatureCollection. Rings are closed and counterclockwise
// (the right-hand rule); a shape across the antimeridian is cut there into
// a MultiPolygon or MultiLineString (§3.1.9).

// MediaTypeGeoJSON is the media type of GeoJSON (RFC 7946 §12).
const MediaTypeGeoJSON = "application/geo+json"

// Feature is a GeoJSON Feature whose properties are P.
type Feature[P any] struct {
	Type       string   `json:"type" enum:"Feature" doc:"Always Feature."`
	ID         string   `json:"id,omitempty" doc:"The zone's id, on a zone; absent on a cell or segment."`
	Geometry   Geometry `json:"geometry" doc:"Where it is."`
	Properties P        `json:"properties" doc:"The JSON answer's fields for it."`
}

// Geometry is a GeoJSON geometry: positions are [longitude, latitude].
type Geometry struct {
	Type        string `json:"type" enum:"Polygon,MultiPolygon,LineString,MultiLineString" doc:"Polygon (a zone or cell), MultiPolygon (one cut at the antimeridian), LineString (a route segment) or MultiLineString (one cut at the antimeridian)."`
	Coordinates any    `json:"coordinates" example:"[[[3.377,6.522],[3.382,6.522],[3.382,6.527],[3.377,6.527],[3.377,6.522]]]" doc:"The positions: Polygon [[[lng, lat], …]] (one closed counterclockwise ring), MultiPolygon [polygon, …], LineString [[lng, lat], …], MultiLineString [linestring, …]."`
}

// polygonGeometry is a closed ring with longitudes that may run past 180:
// a Polygon, or a MultiPolygon of its parts on either side of the seam.
func polygonGeometry(ring []geo.Point) Geometry {
	parts := cutAtAntimeridian(ring)
	if len(parts) == 1 {
		return Geometry{Type: "Polygon", Coordinates: [][]geo.Point{parts[0]}}
	}
	multi := make([][][]geo.Point, len(parts))
	for i, p := range parts {
		multi[i] = [][]geo.Point{p}
	}
	return Geometry{Type: "MultiPolygon", Coordinates: multi}
}

// lineGeometry is the line from a to b: a LineString, or a MultiLineString
// of its pieces on either side of the seam.
func lineGeometry(a, b geo.Point) Geometry {
	pieces := cutLine(a, b)
	if len(pieces) == 1 {
		return Geometry{Type: "LineString", Coordinates: pieces[0]}
	}
	return Geometry{Type: "MultiLineString", Coordinates: pieces}
}

// DangerZonesGeoJSON is the GeoJSON form of DangerZonesResponse.
type DangerZonesGeoJSON struct {
	Type        string                `json:"type" enum:"FeatureCollection" doc:"Always FeatureCollection."`
	Features    []Feature[DangerZone] `json:"features" nullable:"false" doc:"One Polygon (MultiPolygon across the antimeridian) per zone, strongest first."`
	Window      Window                `json:"window" doc:"The incidents counted: created within it."`
	GeneratedAt clock.Time            `json:"generated_at" doc:"When the answer was computed."`
}

// DangerZonesResponse lists hot spots.
type DangerZonesResponse struct {
	Zones       []DangerZone `json:"zones" nullable:"false" doc:"Danger zones, strongest first."`
	Window      Window       `json:"window" doc:"The incidents counted: created within it."`
	GeneratedAt clock.Time   `json:"generated_at" doc:"When the answer was computed."`
}

// GeoJSON returns the zones as a FeatureCollection.
func (r DangerZonesResponse) GeoJSON() DangerZonesGeoJSON {
	out := DangerZonesGeoJSON{Type: "FeatureCollection", Features: make([]Feature[DangerZone], 0, len(r.Zones)), Window: r.Window, GeneratedAt: r.GeneratedAt}
	for _, z := range r.Zones {
		g := Geometry{Type: "Polygon", Coordinates: [][]geo.Point{z.Polygon}}
		if len(z.PolygonParts) > 1 {
			multi := make([][][]geo.Point, len(z.PolygonParts))
			for i, p := range z.PolygonParts {
				multi[i] = [][]geo.Point{p}
			}
			g = Geometry{Type: "MultiPolygon", Coordinates: multi}
		}
		out.Features = append(out.Features, Feature[DangerZone]{Type: "Feature", ID: z.ZoneID, Geometry: g, Properties: z})
	}
	return out
}

// HeatmapGeoJSON is the GeoJSON form of HeatmapResponse.
type HeatmapGeoJSON struct {
	Type           string                 `json:"type" enum:"FeatureCollection" doc:"Always FeatureCollection."`
	BBox           [4]float64             `json:"bbox" example:"[3.3,6.4,3.5,6.6]" doc:"west, south, east, north (RFC 7946 §5; west > east across the antimeridian)."`
	Features       []Feature[HeatmapCell] `json:"features" nullable:"false" doc:"One Polygon per cell with weight (cut at the box's edges; a MultiPolygon across the antimeridian)."`
	CellM          float64                `json:"cell_m" example:"250" doc:"Side of each cell, in metres."`
	Window         Window                 `json:"window" doc:"The incidents counted: created within it."`
	MaxWeight      float64                `json:"max_weight" example:"7.42" doc:"The highest cell weight: intensity is weight / max_weight."`
	TotalIncidents int                    `json:"total_incidents" example:"120" doc:"Incidents within the box and the window."`
	GeneratedAt    clock.Time             `json:"generated_at" doc:"When the answer was computed."`
}

// GeoJSON returns the heatmap's cells as a FeatureCollection.
func (h *HeatmapResponse) GeoJSON() HeatmapGeoJSON {
	out := HeatmapGeoJSON{Type: "FeatureCollection", BBox: h.BBox, Features: make([]Feature[HeatmapCell], 0, len(h.Cells)), CellM: h.CellM,
		Window: h.Window, MaxWeight: h.MaxWeight, TotalIncidents: h.TotalIncidents, GeneratedAt: h.GeneratedAt}
	box := Box{h.BBox[0], h.BBox[1], h.BBox[2], h.BBox[3]}
	deg := h.CellM / metersPerDegree
	for _, c := range h.Cells {
		// The cell whose (rounded) centre this is: a cell cut at the box's
		// edge may be thin, so its centre is near its west or south edge.
		gx, gy := int(box.eastOf(c.Lng)/deg+0.01), int((c.Lat-box.MinLat)/deg+0.01)
		west, south, east, north := heatmapCellBounds(box, deg, gx, gy)
		ring := []geo.Point{{west, south}, {east, south}, {east, north}, {west, north}, {west, south}}
		out.Features = append(out.Features, Feature[HeatmapCell]{Type: "Feature", Geometry: polygonGeometry(ring), Properties: c})
	}
	return out
}

// RouteSafetyGeoJSON is the GeoJSON form of RouteSafety.
type RouteSafetyGeoJSON struct {
	Type           string                  `json:"type" enum:"FeatureCollection" doc:"Always FeatureCollection."`
	Features       []Feature[RouteSegment] `json:"features" nullable:"false" doc:"One LineString per segment, in order (a MultiLineString across the antimeridian)."`
	Score          int                     `json:"score" example:"71" doc:"Length-weighted mean of the segment scores, at most the worst segment's + 30."`
	Level          ScoreLevel              `json:"level" doc:"The band of the route score."`
	DistanceMeters float64                 `json:"distance_meters" example:"5230.4" doc:"Length of the route, in metres."`
	BufferM        float64                 `json:"buffer_m" example:"150" doc:"The corridor half-width used, in metres."`
	WorstSegment   int                     `json:"worst_segment" example:"4" doc:"Index of the lowest-scoring segment."`
	DangerZones    []string                `json:"danger_zones" nullable:"false" example:"[\"zone_k7m2p9x4q1w8z3r5\"]" doc:"Ids of the danger zones the route passes through."`
	Window         Window                  `json:"window" doc:"The incidents counted: created within it."`
	GeneratedAt    clock.Time              `json:"generated_at" doc:"When the answer was computed."`
}

// GeoJSON returns the route's segments as a FeatureCollection.
func (r *RouteSafety) GeoJSON() RouteSafetyGeoJSON {
	out := RouteSafetyGeoJSON{Type: "FeatureCollection", Features: make([]Feature[RouteSegment], 0, len(r.Segments)), Score: r.Score, Level: r.Level,
		DistanceMeters: r.DistanceMeters, BufferM: r.BufferM, WorstSegment: r.WorstSegment, DangerZones: r.DangerZones, Window: r.Window, GeneratedAt: r.GeneratedAt}
	for _, s := range r.Segments {
		out.Features = append(out.Features, Feature[RouteSegment]{Type: "Feature", Geometry: lineGeometry(s.From, s.To), Properties: s})
	}
	return out
}

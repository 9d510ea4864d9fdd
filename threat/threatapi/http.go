package threatapi

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/internal/httpapi"
	"github.com/sety-io/sety/setyerr"
	"github.com/sety-io/sety/threat"
)

type zonesInput struct {
	BBox     string            `query:"bbox" maxLength:"200" doc:"minLng,minLat,maxLng,maxLat; minLng > maxLng crosses the antimeridian. Or give lat, lng and radius_m." example:"3.30,6.40,3.50,6.60"`
	Lat      optional[float64] `query:"lat" minimum:"-90" maximum:"90" example:"6.5244" doc:"With lng (and radius_m), instead of bbox."`
	Lng      optional[float64] `query:"lng" minimum:"-180" maximum:"180" example:"3.3792" doc:"With lat (and radius_m), instead of bbox."`
	RadiusM  optional[float64] `query:"radius_m" minimum:"100" maximum:"10000" doc:"Metres around lat, lng; default 1,000."`
	MinLevel threat.ZoneLevel  `query:"min_level" example:"high" doc:"Only zones of this level or stronger."`
	Limit    int               `query:"limit" minimum:"1" maximum:"100" default:"20" doc:"At most this many zones, 1–100."`
	Accept   string            `header:"Accept" hidden:"true"`
	DaysParam
}

// DaysParam is the window parameter shared by every threat operation.
type DaysParam struct {
	Days int `query:"days" minimum:"1" maximum:"365" default:"90" doc:"Look-back window in days."`
}

type pointInput struct {
	Lat     float64 `query:"lat" required:"true" minimum:"-90" maximum:"90" example:"6.5244" doc:"Latitude of the centre, -90 to 90."`
	Lng     float64 `query:"lng" required:"true" minimum:"-180" maximum:"180" example:"3.3792" doc:"Longitude of the centre, -180 to 180."`
	RadiusM float64 `query:"radius_m" minimum:"100" maximum:"10000" default:"1000" doc:"Metres around the centre, 100–10,000."`
	DaysParam
}

type heatmapInput struct {
	BBox     string            `query:"bbox" required:"true" maxLength:"200" doc:"minLng,minLat,maxLng,maxLat; minLng > maxLng crosses the antimeridian." example:"3.30,6.40,3.50,6.60"`
	CellM    optional[float64] `query:"cell_m" minimum:"50" maximum:"5000" doc:"Output cell side in metres; or give zoom. Default 250."`
	Zoom     optional[int]     `query:"zoom" minimum:"1" maximum:"20" doc:"Web-map zoom: picks cell_m for 16-pixel cells. Instead of cell_m."`
	Category threat.Category   `query:"category" example:"sos" doc:"Only incidents of this category."`
	Accept   string            `header:"Accept" hidden:"true"`
	DaysParam
}

type scoreInput struct {
	Lat     float64 `query:"lat" required:"true" minimum:"-90" maximum:"90" example:"6.5244" doc:"Latitude of the place, -90 to 90."`
	Lng     float64 `query:"lng" required:"true" minimum:"-180" maximum:"180" example:"3.3792" doc:"Longitude of the place, -180 to 180."`
	RadiusM float64 `query:"radius_m" minimum:"100" maximum:"10000" default:"500" doc:"Metres around the place, 100–10,000."`
	At      string  `query:"at" format:"date-time" doc:"RFC 3339 time: the area's hour-of-day profile adjusts the score for it."`
	DaysParam
}

type routeInput struct {
	Path     string  `query:"path" maxLength:"20000" doc:"lng,lat;lng,lat;… 2–500 points, at most 500 km in all. Or polyline." example:"3.3792,6.5244;3.4219,6.4281"`
	Polyline string  `query:"polyline" maxLength:"20000" doc:"Encoded polyline (precision 5), instead of path."`
	BufferM  float64 `query:"buffer_m" minimum:"25" maximum:"1000" default:"150" doc:"Corridor half-width in metres."`
	At       string  `query:"at" format:"date-time" doc:"RFC 3339 time the route is travelled: the corridor's hour-of-day profile adjusts the scores."`
	Accept   string  `header:"Accept" hidden:"true"`
	DaysParam
}

// optional is a query parameter that tells absent from any given value
// (0 included): huma parses into Value and reports presence (ParamWrapper,
// ParamReactor), and documents it with T's schema and the field's tags.
type optional[T float64 | int] struct {
	Value T
	Set   bool
}

func (o *optional[T]) Receiver() reflect.Value      { return reflect.ValueOf(o).Elem().Field(0) }
func (o *optional[T]) OnParamSet(isSet bool, _ any) { o.Set = isSet }
func (optional[T]) Schema(r huma.Registry) *huma.Schema {
	return r.Schema(reflect.TypeFor[T](), false, "")
}

// Register mounts the threat intelligence operations on api.
func Register(api huma.API, e *threat.Engine, log *slog.Logger) {
	Enums(api.OpenAPI().Components.Schemas)
	const tag = "Threat intelligence"
	scope := string(auth.ThreatRead)
	bad := []int{http.StatusBadRequest}

	huma.Register(api, huma.Operation{
		OperationID: "list-danger-zones", Method: http.MethodGet, Path: "/danger-zones", Tags: []string{tag}, Summary: "List danger zones",
		Description: "Hot spots of a box (or a circle): connected grid cells whose Getis-Ord Gi* z-score of decayed, severity-weighted " +
			"incidents is significant, graded as ArcGIS's Hot Spot Analysis bins them (elevated 90 %, high 95 %, critical 99 % confidence, " +
			"each after its own Benjamini–Hochberg false-discovery-rate correction). A box with minLng > maxLng crosses the antimeridian " +
			"and is studied as one area. Strongest first. " + geoJSONNote,
		Metadata: httpapi.Scope(scope), Errors: bad,
	}, httpapi.Errors(log, func(ctx context.Context, in *zonesInput) (*negotiated, error) {
		box, circle, err := boxOrCircle(in)
		if err != nil {
			return nil, err
		}
		zs, w, err := e.Zones(threat.Query{Days: in.Days}, box, in.MinLevel, in.Limit)
		var bad *setyerr.Error
		if circle != nil && errors.As(err, &bad) && bad.Field == "bbox" {
			// Near a pole the box around the circle spans many columns of
			// narrow cells.
			field := "lat"
			if in.RadiusM.Set {
				field = "radius_m"
			}
			return nil, setyerr.Invalidf(field, "is too close to a pole for zones of this radius: the area spans more than 256 × 256 cells")
		}
		if err != nil {
			return nil, err
		}
		if circle != nil {
			kept := zs[:0]
			for _, z := range zs {
				if geo.Distance(z.Center, circle.p) <= circle.r {
					kept = append(kept, z)
				}
			}
			zs = kept
		}
		r := threat.DangerZonesResponse{Zones: zs, Window: w, GeneratedAt: clock.At(e.Now().UTC().Truncate(time.Millisecond))}
		return negotiate(in.Accept, r, func() any { return r.GeoJSON() })
	}))
	documentGeoJSON[threat.DangerZonesResponse, threat.DangerZonesGeoJSON](api, "list-danger-zones")

	huma.Register(api, huma.Operation{
		OperationID: "danger-analytics", Method: http.MethodGet, Path: "/danger-analytics", Tags: []string{tag}, Summary: "Danger analytics for a location",
		Description: "Counts, trend, time of day, patterns, comparison with the surroundings, a 24-hour risk prediction, danger and safe " +
			"zones and the safety score for a circle (radius_m default 1,000).",
		Metadata: httpapi.Scope(scope), Errors: bad,
	}, httpapi.Errors(log, func(ctx context.Context, in *pointInput) (*httpapi.Output[*threat.DangerAnalytics], error) {
		if err := threat.CheckPoint(geo.NewPoint(in.Lat, in.Lng)); err != nil {
			return nil, err
		}
		return httpapi.Reply(e.Analytics(threat.AnalyticsQuery{Query: threat.Query{Days: in.Days}, Location: geo.NewPoint(in.Lat, in.Lng), RadiusM: in.RadiusM}))
	}))

	huma.Register(api, huma.Operation{
		OperationID: "get-heatmap", Method: http.MethodGet, Path: "/heatmap", Tags: []string{tag}, Summary: "Heatmap data",
		Description: "Kernel-smoothed (quartic) decayed incident weight over a box, in cells of cell_m cut at the box's east and north edges, " +
			"only cells with weight, with intensity 0–1; counts and total_incidents cover the incidents inside the box only. " +
			"A box with minLng > maxLng crosses the antimeridian. " + geoJSONNote,
		Metadata: httpapi.Scope(scope), Errors: bad,
	}, httpapi.Errors(log, func(ctx context.Context, in *heatmapInput) (*negotiated, error) {
		box, err := parseBBox(in.BBox)
		if err != nil {
			return nil, err
		}
		cell := 250.0
		switch {
		case in.CellM.Set && in.Zoom.Set:
			return nil, setyerr.Invalidf("zoom", "give cell_m or zoom, not both")
		case in.Zoom.Set:
			cell = threat.CellForZoom(in.Zoom.Value)
		case in.CellM.Set:
			cell = in.CellM.Value
		}
		h, err := e.Heatmap(threat.Query{Days: in.Days, Category: in.Category}, box, cell)
		if err != nil {
			return nil, err
		}
		return negotiate(in.Accept, h, func() any { return h.GeoJSON() })
	}))
	documentGeoJSON[*threat.HeatmapResponse, threat.HeatmapGeoJSON](api, "get-heatmap")

	huma.Register(api, huma.Operation{
		OperationID: "safety-score", Method: http.MethodGet, Path: "/safety/score", Tags: []string{tag}, Summary: "Safety score",
		Description: "Real-time 0–100 safety score for a location (100 safest) from recent incident history: the decayed, severity-weighted " +
			"incident density within radius_m, ranked against the network-wide distribution. 100 with no incidents nearby.",
		Metadata: httpapi.Scope(scope), Errors: bad,
	}, httpapi.Errors(log, func(ctx context.Context, in *scoreInput) (*httpapi.Output[*threat.SafetyScore], error) {
		at, err := parseAt(in.At)
		if err != nil {
			return nil, err
		}
		if err := threat.CheckPoint(geo.NewPoint(in.Lat, in.Lng)); err != nil {
			return nil, err
		}
		return httpapi.Reply(e.Score(threat.ScoreQuery{Query: threat.Query{Days: in.Days, At: at}, Location: geo.NewPoint(in.Lat, in.Lng), RadiusM: in.RadiusM}))
	}))

	huma.Register(api, huma.Operation{
		OperationID: "route-safety", Method: http.MethodGet, Path: "/route-safety", Tags: []string{tag}, Summary: "Route safety analysis",
		Description: "Scores a route given as path or encoded polyline, in segments of at most 500 m, each scored like a place from " +
			"the incidents within buffer_m, with the danger zones it crosses. " + geoJSONNote,
		Metadata: httpapi.Scope(scope), Errors: bad,
	}, httpapi.Errors(log, func(ctx context.Context, in *routeInput) (*negotiated, error) {
		path, err := parsePath(in.Path, in.Polyline)
		if err != nil {
			return nil, err
		}
		at, err := parseAt(in.At)
		if err != nil {
			return nil, err
		}
		r, err := e.Route(threat.RouteQuery{Query: threat.Query{Days: in.Days, At: at}, Path: path, BufferM: in.BufferM})
		if err != nil {
			return nil, err
		}
		return negotiate(in.Accept, r, func() any { return r.GeoJSON() })
	}))
	documentGeoJSON[*threat.RouteSafety, threat.RouteSafetyGeoJSON](api, "route-safety")
}

// boxOrCircle reads bbox, or lat, lng and radius_m as the box around a
// circle: one or the other, whole.
func boxOrCircle(in *zonesInput) (threat.Box, *circle, error) {
	if in.BBox != "" {
		for name, set := range map[string]bool{"lat": in.Lat.Set, "lng": in.Lng.Set, "radius_m": in.RadiusM.Set} {
			if set {
				return threat.Box{}, nil, setyerr.Invalidf(name, "give bbox or lat, lng and radius_m, not both")
			}
		}
		b, err := parseBBox(in.BBox)
		return b, nil, err
	}
	switch {
	case !in.Lat.Set && !in.Lng.Set:
		return threat.Box{}, nil, setyerr.Invalidf("bbox", "is required (or lat, lng and radius_m)")
	case !in.Lat.Set:
		return threat.Box{}, nil, setyerr.Invalidf("lat", "is required with lng")
	case !in.Lng.Set:
		return threat.Box{}, nil, setyerr.Invalidf("lng", "is required with lat")
	}
	p := geo.NewPoint(in.Lat.Value, in.Lng.Value)
	if err := threat.CheckPoint(p); err != nil {
		return threat.Box{}, nil, err
	}
	r := 1000.0
	if in.RadiusM.Set {
		if v := in.RadiusM.Value; math.IsNaN(v) || v < 100 || v > 10000 {
			return threat.Box{}, nil, setyerr.Invalidf("radius_m", "must be between 100 and 10000")
		}
		r = in.RadiusM.Value
	}
	return threat.BoxAround(p, r), &circle{p, r}, nil
}

func parseBBox(s string) (threat.Box, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return threat.Box{}, setyerr.Invalidf("bbox", "must be minLng,minLat,maxLng,maxLat")
	}
	var v [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return threat.Box{}, setyerr.Invalidf("bbox", "must be four numbers")
		}
		v[i] = f
	}
	b := threat.Box{MinLng: v[0], MinLat: v[1], MaxLng: v[2], MaxLat: v[3]}
	return b, b.Validate("bbox")
}

func parseAt(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, setyerr.Invalidf("at", "must be an RFC 3339 time")
	}
	return t, nil
}

func parsePath(path, polyline string) ([]geo.Point, error) {
	switch {
	case path != "" && polyline != "":
		return nil, setyerr.Invalidf("path", "give path or polyline, not both")
	case polyline != "":
		pts, err := geo.DecodePolyline(polyline)
		if err != nil {
			return nil, setyerr.Invalidf("polyline", "%v", err)
		}
		if len(pts) < 2 || len(pts) > 500 {
			return nil, setyerr.Invalidf("polyline", "must have 2 to 500 points")
		}
		for _, p := range pts {
			if err := p.Validate("polyline"); err != nil {
				return nil, setyerr.Invalidf("polyline", "%v", err)
			}
		}
		return pts, nil
	case path == "":
		return nil, setyerr.Invalidf("path", "is required (or polyline)")
	}
	var pts []geo.Point
	for _, pair := range strings.Split(path, ";") {
		ll := strings.Split(pair, ",")
		if len(ll) != 2 {
			return nil, setyerr.Invalidf("path", "must be lng,lat pairs separated by ;")
		}
		lng, err1 := strconv.ParseFloat(strings.TrimSpace(ll[0]), 64)
		lat, err2 := strconv.ParseFloat(strings.TrimSpace(ll[1]), 64)
		if err1 != nil || err2 != nil {
			return nil, setyerr.Invalidf("path", "must be lng,lat pairs of numbers")
		}
		pts = append(pts, geo.Point{lng, lat})
		if len(pts) > 500 {
			return nil, setyerr.Invalidf("path", "must have 2 to 500 points")
		}
	}
	return pts, nil
}

// circle is the points within r metres (great-circle) of p.
type circle struct {
	p geo.Point
	r float64
}

package threatapi_test

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2/humatest"
	"github.com/paulmach/orb"

	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/internal/geojsontest"
	"github.com/sety-io/sety/threat"
)

// seamWorld is Lagos's planted truth and a copy of it moved so that spot
// A lies on the antimeridian (at 16.5° S, Fiji's latitude).
func seamWorld(t *testing.T) humatest.TestAPI {
	return mount(t, func(add func(threat.Report)) {
		truth.Generate(func(r threat.Report) { r.Location = toSeam(r.Location); add(r) })
	})
}

// toSeam moves a point of the Lagos world so that spot A lands on 180°.
func toSeam(p geo.Point) geo.Point {
	return geo.Point{math.Remainder(p.Lng()-spotA.Lng()+180, 360), p.Lat() - spotA.Lat() - 16.5}
}

func getGeoJSON(t *testing.T, api humatest.TestAPI, path string) (*geojsontest.Collection, *httptest.ResponseRecorder) {
	t.Helper()
	resp := api.Get(path, "Accept: application/geo+json")
	if resp.Code != http.StatusOK {
		t.Fatalf("%s: %d %s", path, resp.Code, resp.Body.String())
	}
	if ct := resp.Header().Get("Content-Type"); ct != threat.MediaTypeGeoJSON {
		t.Fatalf("%s: Content-Type %q", path, ct)
	}
	if v := resp.Header().Get("Vary"); v != "Accept" {
		t.Fatalf("%s: Vary %q", path, v)
	}
	fc, err := geojsontest.Parse(resp.Body.Bytes())
	if err != nil {
		t.Fatalf("%s: not valid GeoJSON: %v\n%.600s", path, err, resp.Body.String())
	}
	return fc, resp
}

func getJSON(t *testing.T, api humatest.TestAPI, path string, accept ...any) map[string]any {
	t.Helper()
	resp := api.Get(path, accept...)
	if resp.Code != http.StatusOK || !strings.HasPrefix(resp.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("%s %v: %d %s %s", path, accept, resp.Code, resp.Header().Get("Content-Type"), resp.Body.String())
	}
	var m map[string]any
	if err := json.Unmarshal(resp.Body.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func prop[T any](t *testing.T, f geojsontest.Feature, name string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(f.Properties[name], &v); err != nil {
		t.Fatalf("property %s: %v", name, err)
	}
	return v
}

// polygons lists the rings of a feature's Polygon or MultiPolygon.
func polygons(t *testing.T, g orb.Geometry) []orb.Ring {
	t.Helper()
	switch p := g.(type) {
	case orb.Polygon:
		return []orb.Ring{p[0]}
	case orb.MultiPolygon:
		var rs []orb.Ring
		for _, q := range p {
			rs = append(rs, q[0])
		}
		return rs
	}
	t.Fatalf("geometry %T, want a Polygon or MultiPolygon", g)
	return nil
}

func TestGeoJSONAnswers(t *testing.T) {
	api := seamWorld(t)
	lagos := "bbox=3.30,6.40,3.50,6.60"
	seam := "bbox=179.9,-16.6,-179.9,-16.4" // across the antimeridian

	t.Run("zones", func(t *testing.T) {
		for _, box := range []string{lagos, seam} {
			fc, _ := getGeoJSON(t, api, "/danger-zones?"+box)
			js := getJSON(t, api, "/danger-zones?"+box)
			zones := js["zones"].([]any)
			if len(fc.Features) != len(zones) || len(zones) == 0 || fc.Members["window"] == nil || fc.Members["generated_at"] == nil {
				t.Fatalf("%s: %d features for %d zones, members %v", box, len(fc.Features), len(zones), fc.Members)
			}
			multi := 0
			for i, f := range fc.Features {
				z := zones[i].(map[string]any)
				if id := prop[string](t, f, "zone_id"); id != z["zone_id"] || string(f.ID) != `"`+id+`"` || prop[string](t, f, "level") != z["level"] {
					t.Fatalf("feature %d: id %s, properties %v; zone %v", i, f.ID, f.Properties, z)
				}
				if _, ok := f.Geometry.(orb.MultiPolygon); ok {
					multi++
				}
				for _, r := range polygons(t, f.Geometry) {
					if !r.Bound().Pad(1e-9).Contains(orb.Point{z["center"].([]any)[0].(float64), z["center"].([]any)[1].(float64)}) && len(polygons(t, f.Geometry)) == 1 {
						t.Fatalf("zone %d's polygon %v does not hold its centre %v", i, r, z["center"])
					}
				}
			}
			if box == seam && multi == 0 {
				t.Fatalf("no zone across the antimeridian is cut into a MultiPolygon")
			}
		}
	})

	t.Run("heatmap", func(t *testing.T) {
		for _, box := range []string{lagos + "&cell_m=600", seam + "&cell_m=500"} {
			fc, _ := getGeoJSON(t, api, "/heatmap?"+box)
			js := getJSON(t, api, "/heatmap?"+box)
			cells := js["cells"].([]any)
			if len(fc.Features) != len(cells) || len(cells) == 0 || string(fc.Members["total_incidents"]) != ftoa(js["total_incidents"].(float64)) {
				t.Fatalf("%s: %d features for %d cells", box, len(fc.Features), len(cells))
			}
			for i, f := range fc.Features {
				c := cells[i].(map[string]any)
				centre := orb.Point{c["lng"].(float64), c["lat"].(float64)}
				held := false
				for _, r := range polygons(t, f.Geometry) {
					held = held || r.Bound().Pad(1e-6).Contains(centre)
				}
				if !held || prop[float64](t, f, "weight") != c["weight"] {
					t.Fatalf("cell %d %v: feature %v %v", i, c, f.Geometry, f.Properties)
				}
			}
		}
	})

	t.Run("route", func(t *testing.T) {
		for _, path := range []string{"3.3792,6.5244;3.4219,6.4281", "179.95,-16.5;-179.95,-16.52"} {
			fc, _ := getGeoJSON(t, api, "/route-safety?path="+path)
			js := getJSON(t, api, "/route-safety?path="+path)
			segs := js["segments"].([]any)
			if len(fc.Features) != len(segs) || string(fc.Members["score"]) != ftoa(js["score"].(float64)) {
				t.Fatalf("%s: %d features for %d segments", path, len(fc.Features), len(segs))
			}
			cut := 0
			for i, f := range fc.Features {
				s := segs[i].(map[string]any)
				var first, last orb.Point
				switch g := f.Geometry.(type) {
				case orb.LineString:
					first, last = g[0], g[len(g)-1]
				case orb.MultiLineString:
					first, last = g[0][0], g[len(g)-1][len(g[len(g)-1])-1]
					cut++
				default:
					t.Fatalf("segment %d: %T", i, g)
				}
				from, to := s["from"].([]any), s["to"].([]any)
				if first != (orb.Point{from[0].(float64), from[1].(float64)}) || last != (orb.Point{to[0].(float64), to[1].(float64)}) ||
					prop[float64](t, f, "score") != s["score"] {
					t.Fatalf("segment %d %v: feature %v %v", i, s, f.Geometry, f.Properties)
				}
			}
			if strings.HasPrefix(path, "179") && cut != 1 {
				t.Fatalf("%d segments across the antimeridian cut, want 1", cut)
			}
		}
	})

	t.Run("JSON stays the default", func(t *testing.T) {
		for _, accept := range []string{"", "*/*", "application/json", "application/geo+json;q=0.5, application/json", "text/html"} {
			var args []any
			if accept != "" {
				args = append(args, "Accept: "+accept)
			}
			for _, path := range []string{"/danger-zones?" + lagos, "/heatmap?" + lagos, "/route-safety?path=3.3792,6.5244;3.4219,6.4281"} {
				if m := getJSON(t, api, path, args...); m["type"] != nil {
					t.Fatalf("%s with Accept %q answered GeoJSON", path, accept)
				}
			}
		}
		// Errors stay the contract's JSON error.
		resp := api.Get("/heatmap?bbox=1,2,3", "Accept: application/geo+json")
		if resp.Code != http.StatusBadRequest || !strings.Contains(resp.Body.String(), `"bbox"`) {
			t.Fatalf("bad bbox with Accept GeoJSON: %d %s", resp.Code, resp.Body.String())
		}
	})

	t.Run("OpenAPI", func(t *testing.T) {
		for _, id := range []string{"list-danger-zones", "get-heatmap", "route-safety"} {
			found := false
			for _, item := range api.OpenAPI().Paths {
				if op := item.Get; op != nil && op.OperationID == id {
					found = true
					// JSON is the one documented media type (typed clients
					// would otherwise see a union); GeoJSON is named, with
					// its schema, in the response's extension.
					ok := op.Responses["200"]
					if len(ok.Content) != 1 || ok.Content["application/json"] == nil {
						t.Fatalf("%s documents %v", id, ok.Content)
					}
					alt, _ := ok.Extensions["x-alternative-content"].(map[string]any)
					geo, _ := alt[threat.MediaTypeGeoJSON].(map[string]any)
					schema, _ := geo["schema"].(map[string]any)
					ref, _ := schema["$ref"].(string)
					name := strings.TrimPrefix(ref, "#/components/schemas/")
					if name == "" || name == ref || api.OpenAPI().Components.Schemas.Map()[name] == nil || !strings.Contains(ok.Description, name) {
						t.Fatalf("%s names no GeoJSON schema: %v, %q", id, ok.Extensions, ok.Description)
					}
				}
			}
			if !found {
				t.Fatalf("no operation %s", id)
			}
		}
	})
}

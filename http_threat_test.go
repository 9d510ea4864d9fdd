package sety_test

import (
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/internal/geojsontest"
	"github.com/sety-io/sety/threat"
)

func TestThreatIntelligenceOverHTTP(t *testing.T) {
	t.Parallel()
	testThreatIntelligenceOverHTTP(t, newMemoryHarness(t))
}

func testThreatIntelligenceOverHTTP(t *testing.T, h *harness) {
	threat.LagosYear(t0, 3000, 1).Generate(h.sety.Threat.Add)
	h.sety.Threat.Refresh()
	score := wantStatus(t, h.do(http.MethodGet, "/safety/score?lat=6.4281&lng=3.4219", h.live, nil), http.StatusOK)
	for _, k := range []string{"score", "level", "location", "radius_meters", "incident_count", "recent_incidents_7d", "top_categories", "factors", "confidence", "window", "generated_at"} {
		if _, ok := score[k]; !ok {
			t.Fatalf("safety score lacks %s: %v", k, score)
		}
	}
	if score["score"].(float64) >= 20 || score["radius_meters"] != 500.0 {
		t.Fatalf("score at a planted hot spot %v", score)
	}
	zones := wantStatus(t, h.do(http.MethodGet, "/danger-zones?bbox=3.25,6.40,3.55,6.70&min_level=high", h.live, nil), http.StatusOK)
	if zs := zones["zones"].([]any); len(zs) < 2 || zones["window"] == nil || zones["generated_at"] == nil {
		t.Fatalf("zones %v", zones)
	}
	circle := wantStatus(t, h.do(http.MethodGet, "/danger-zones?lat=6.4281&lng=3.4219&radius_m=2000", h.live, nil), http.StatusOK)
	if len(circle["zones"].([]any)) != 1 {
		t.Fatalf("zones in a 2 km circle at Victoria Island: %v", circle["zones"])
	}
	heat := wantStatus(t, h.do(http.MethodGet, "/heatmap?bbox=3.30,6.40,3.50,6.60&zoom=13&category=vehicle", h.live, nil), http.StatusOK)
	if len(heat["cells"].([]any)) == 0 || heat["max_weight"].(float64) <= 0 {
		t.Fatalf("heatmap %v", heat["max_weight"])
	}
	route := wantStatus(t, h.do(http.MethodGet, "/route-safety?path=3.3792,6.5244;3.4219,6.4281&buffer_m=200", h.live, nil), http.StatusOK)
	if len(route["segments"].([]any)) < 20 || len(route["danger_zones"].([]any)) == 0 {
		t.Fatalf("route %v", route["segments"])
	}
	an := wantStatus(t, h.do(http.MethodGet, "/danger-analytics?lat=6.4281&lng=3.4219&days=30", h.live, nil), http.StatusOK)
	for _, k := range []string{"trend", "time_analysis", "patterns", "comparison", "prediction", "danger_zones", "safe_zones", "safety_score", "window", "generated_at"} {
		if an[k] == nil {
			t.Fatalf("analytics lacks %s", k)
		}
	}

	for query, field := range map[string]string{
		"/safety/score?lat=6.5":                      "lng",
		"/safety/score?lat=95&lng=3":                 "lat",
		"/safety/score?lat=NaN&lng=3":                "lat",
		"/safety/score?lat=6.5&lng=3.4&radius_m=50":  "radius_m",
		"/safety/score?lat=6.5&lng=3.4&days=0":       "days",
		"/safety/score?lat=6.5&lng=3.4&at=yesterday": "at",
		"/heatmap":            "bbox",
		"/heatmap?bbox=1,2,3": "bbox",
		"/heatmap?bbox=3.3,6.4,3.5,6.6&cell_m=10":          "cell_m",
		"/heatmap?bbox=3.3,6.4,3.5,6.6&cell_m=100&zoom=12": "zoom",
		"/heatmap?bbox=-180,-80,180,80&cell_m=50":          "cell_m",
		"/danger-zones":                                     "bbox",
		"/danger-zones?bbox=0,0,40,40":                      "bbox",
		"/danger-zones?bbox=3.3,6.4,3.5,6.6&min_level=mild": "min_level",
		"/route-safety":                                     "path",
		"/route-safety?path=3.3,6.5":                        "path",
		"/route-safety?path=3.3,6.5;x,y":                    "path",
		"/route-safety?polyline=%7E%7E":                     "polyline",
		"/danger-analytics?lat=6.5&lng=3.4&radius_m=20000":  "radius_m",
	} {
		wantStatus(t, h.do(http.MethodGet, query, h.live, nil), http.StatusBadRequest, field)
	}
	wantStatus(t, h.do(http.MethodGet, "/safety/score?lat=6.5&lng=3.4", h.key(h.org, auth.Live, auth.IncidentsRead), nil), http.StatusForbidden, "threat:read")
	if !strings.Contains(h.do(http.MethodGet, "/safety/score?lat=6.5&lng=3.4", h.test, nil).Body.String(), `"score"`) {
		t.Fatal("a test key cannot read threat intelligence")
	}
}

// Through the whole server: danger zones, heatmap and route safety answer
// GeoJSON a GIS can load when asked for it (with Vary: Accept), JSON
// otherwise; a box across the antimeridian is one study.
func TestThreatGeoJSONOverHTTP(t *testing.T) {
	t.Parallel()
	h := newMemoryHarness(t)
	threat.LagosYear(t0, 3000, 1).Generate(h.sety.Threat.Add)
	threat.LagosYear(t0, 3000, 1).Generate(func(r threat.Report) { // the same year moved onto the antimeridian
		r.Location = geo.Point{math.Remainder(r.Location.Lng()+176.5782, 360), r.Location.Lat() - 23}
		h.sety.Threat.Add(r)
	})
	h.sety.Threat.Refresh()
	for _, path := range []string{
		"/danger-zones?bbox=3.25,6.40,3.55,6.70",
		"/danger-zones?bbox=179.8,-16.6,-179.75,-16.3",
		"/heatmap?bbox=3.30,6.40,3.50,6.60&cell_m=500",
		"/heatmap?bbox=179.9,-16.6,-179.9,-16.4&cell_m=500",
		"/route-safety?path=3.3792,6.5244;3.4219,6.4281",
		"/route-safety?path=179.95,-16.45;-179.95,-16.5",
	} {
		rec := h.api.Do(http.MethodGet, base+path, "Authorization: Bearer "+h.live, "Accept: application/geo+json")
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != threat.MediaTypeGeoJSON || rec.Header().Get("Vary") != "Accept" {
			t.Fatalf("%s: %d %v %s", path, rec.Code, rec.Header(), rec.Body.String())
		}
		fc, err := geojsontest.Parse(rec.Body.Bytes())
		if err != nil || len(fc.Features) == 0 {
			t.Fatalf("%s: %v (%d features)", path, err, len(fc.Features))
		}
		js := wantStatus(t, h.do(http.MethodGet, path, h.live, nil), http.StatusOK)
		for _, k := range []string{"zones", "cells", "segments"} {
			if items, ok := js[k].([]any); ok && len(items) != len(fc.Features) {
				t.Fatalf("%s: %d features for %d %s", path, len(fc.Features), len(items), k)
			}
		}
	}
	// The same hot spot across the seam is found as at Lagos.
	lagos := wantStatus(t, h.do(http.MethodGet, "/danger-zones?lat=6.4281&lng=3.4219&radius_m=2000", h.live, nil), http.StatusOK)["zones"].([]any)
	seam := wantStatus(t, h.do(http.MethodGet, "/danger-zones?lat=-16.5709&lng=179.9999&radius_m=2000", h.live, nil), http.StatusOK)["zones"].([]any)
	if len(lagos) != 1 || len(seam) != 1 || len(seam[0].(map[string]any)["polygon_parts"].([]any)) != 2 {
		t.Fatalf("Victoria Island's zone %v; moved across the antimeridian %v", lagos, seam)
	}
}

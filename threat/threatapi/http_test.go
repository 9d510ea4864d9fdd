package threatapi_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2/humatest"

	"github.com/sety-io/sety/internal/httpapi"
	"github.com/sety-io/sety/threat"
	"github.com/sety-io/sety/threat/threatapi"
)

// mount serves the threat operations on a bare huma API over a small
// history, and what more adds to it. The auth middleware is not mounted:
// threat handlers need no principal.
func mount(t *testing.T, more ...func(add func(threat.Report))) humatest.TestAPI {
	t.Helper()
	httpapi.InstallErrorFormat()
	_, api := humatest.New(t)
	e := threat.NewEngine(threat.Config{Now: func() time.Time { return now }})
	truth.Generate(e.Add)
	for _, m := range more {
		m(e.Add)
	}
	e.Refresh()
	threatapi.Register(httpapi.NewGroup(api, httpapi.Shared{}), e, slog.New(slog.DiscardHandler))
	return api
}

// Every threat parameter: absent takes its default, any given value is
// checked (0 included), and a 400 names the parameter in errors[].field.
// Whichever layer refuses it — the OpenAPI schema (type, range, enum,
// required) or the handler (pairs, formats, limits across parameters) —
// the field is the parameter's bare name.
func TestParameters(t *testing.T) {
	api := mount(t)
	const bbox = "bbox=3.3,6.4,3.5,6.6"
	tests := []struct {
		query  string
		status int
		field  string
	}{
		// danger-zones
		{"/danger-zones", 400, "bbox"},
		{"/danger-zones?lat=6.4281", 400, "lng"},
		{"/danger-zones?lng=3.4219", 400, "lat"},
		{"/danger-zones?radius_m=2000", 400, "bbox"},
		{"/danger-zones?lat=0&lng=0&radius_m=2000", 200, ""},
		{"/danger-zones?lat=0&lng=0", 200, ""},
		{"/danger-zones?lat=6.4281&lng=3.4219", 200, ""},
		{"/danger-zones?lat=-16.5&lng=180&radius_m=2000", 200, ""}, // across the antimeridian
		{"/danger-zones?lat=89.999&lng=0", 400, "lat"},
		{"/danger-zones?lat=-89.99&lng=0&radius_m=5000", 400, "radius_m"},
		{"/danger-zones?lat=89.6&lng=0&radius_m=100", 200, ""},
		{"/danger-zones?bbox=179.9,-16.6,-179.9,-16.4", 200, ""},
		{"/danger-zones?bbox=180,-16.6,-180,-16.4", 400, "bbox"},
		{"/danger-zones?bbox=10,-16.6,10,-16.4", 400, "bbox"},
		{"/danger-zones?lat=6.4&lng=190", 400, "lng"},
		{"/danger-zones?lat=95&lng=3", 400, "lat"},
		{"/danger-zones?lat=NaN&lng=3", 400, "lat"},
		{"/danger-zones?lat=6&lng=NaN", 400, "lng"},
		{"/danger-zones?lat=x&lng=3", 400, "lat"},
		{"/danger-zones?lat=6.4&lng=3.4&radius_m=0", 400, "radius_m"},
		{"/danger-zones?lat=6.4&lng=3.4&radius_m=50", 400, "radius_m"},
		{"/danger-zones?lat=6.4&lng=3.4&radius_m=20000", 400, "radius_m"},
		{"/danger-zones?" + bbox + "&lat=6.5", 400, "lat"},
		{"/danger-zones?" + bbox + "&radius_m=500", 400, "radius_m"},
		{"/danger-zones?bbox=1,2,3", 400, "bbox"},
		{"/danger-zones?bbox=3.5,6.4,3.3,6.6", 400, "bbox"},
		{"/danger-zones?bbox=0,0,40,40", 400, "bbox"},
		{"/danger-zones?" + bbox + "&min_level=mild", 400, "min_level"},
		{"/danger-zones?" + bbox + "&min_level=critical", 200, ""},
		{"/danger-zones?" + bbox + "&limit=0", 400, "limit"},
		{"/danger-zones?" + bbox + "&limit=101", 400, "limit"},
		{"/danger-zones?" + bbox + "&days=0", 400, "days"},
		{"/danger-zones?" + bbox + "&days=366", 400, "days"},
		{"/danger-zones?" + bbox + "&days=x", 400, "days"},
		{"/danger-zones?" + bbox + "&days=365", 200, ""},
		// danger-analytics
		{"/danger-analytics", 400, "lat"},
		{"/danger-analytics?lat=6.5", 400, "lng"},
		{"/danger-analytics?lng=3.4", 400, "lat"},
		{"/danger-analytics?lat=6.5&lng=190", 400, "lng"},
		{"/danger-analytics?lat=-91&lng=3", 400, "lat"},
		{"/danger-analytics?lat=NaN&lng=3", 400, "lat"},
		{"/danger-analytics?lat=6.5&lng=3.4&radius_m=0", 400, "radius_m"},
		{"/danger-analytics?lat=6.5&lng=3.4&radius_m=20000", 400, "radius_m"},
		{"/danger-analytics?lat=6.5&lng=3.4&days=0", 400, "days"},
		{"/danger-analytics?lat=0&lng=0", 200, ""},
		// heatmap
		{"/heatmap", 400, "bbox"},
		{"/heatmap?bbox=1,2,3", 400, "bbox"},
		{"/heatmap?" + bbox + "&cell_m=0", 400, "cell_m"},
		{"/heatmap?" + bbox + "&cell_m=10", 400, "cell_m"},
		{"/heatmap?" + bbox + "&cell_m=6000", 400, "cell_m"},
		{"/heatmap?" + bbox + "&zoom=0", 400, "zoom"},
		{"/heatmap?" + bbox + "&zoom=21", 400, "zoom"},
		{"/heatmap?" + bbox + "&cell_m=100&zoom=12", 400, "zoom"},
		{"/heatmap?bbox=-180,-80,180,80&cell_m=50", 400, "cell_m"},
		{"/heatmap?" + bbox + "&category=fire", 400, "category"},
		{"/heatmap?" + bbox + "&days=0", 400, "days"},
		{"/heatmap?" + bbox + "&zoom=13&category=vehicle", 200, ""},
		{"/heatmap?" + bbox + "&cell_m=500", 200, ""},
		{"/heatmap?bbox=179.9,-16.6,-179.9,-16.4", 200, ""},
		{"/heatmap?bbox=179.9,-16.6,179.9,-16.4", 400, "bbox"},
		{"/heatmap?bbox=3.3,6.6,3.5,6.4", 400, "bbox"},
		// safety/score
		{"/safety/score", 400, "lat"},
		{"/safety/score?lat=6.5", 400, "lng"},
		{"/safety/score?lng=3.4", 400, "lat"},
		{"/safety/score?lat=6.5&lng=190", 400, "lng"},
		{"/safety/score?lat=95&lng=3", 400, "lat"},
		{"/safety/score?lat=NaN&lng=3", 400, "lat"},
		{"/safety/score?lat=6.5&lng=NaN", 400, "lng"},
		{"/safety/score?lat=6.5&lng=3.4&radius_m=0", 400, "radius_m"},
		{"/safety/score?lat=6.5&lng=3.4&radius_m=50", 400, "radius_m"},
		{"/safety/score?lat=6.5&lng=3.4&at=yesterday", 400, "at"},
		{"/safety/score?lat=6.5&lng=3.4&days=0", 400, "days"},
		{"/safety/score?lat=0&lng=0", 200, ""},
		{"/safety/score?lat=6.5&lng=3.4&at=2026-03-10T22:30:00Z&days=30", 200, ""},
		// route-safety
		{"/route-safety", 400, "path"},
		{"/route-safety?path=3.3,6.5", 400, "path"},
		{"/route-safety?path=3.3,6.5;x,y", 400, "path"},
		{"/route-safety?path=3.3,6.5;190,6.5", 400, "path"},
		{"/route-safety?path=0,0;10,0", 400, "path"}, // 1,112 km
		{"/route-safety?path=" + strings.Repeat("3.3,6.5;", 500) + "3.3,6.5", 400, "path"},
		{"/route-safety?polyline=%7E%7E", 400, "polyline"},
		{"/route-safety?polyline=_p~iF~ps|U", 400, "polyline"}, // one point
		{"/route-safety?path=3.3,6.5;3.4,6.5&polyline=_p~iF~ps|U_ulLnnqC", 400, "path"},
		{"/route-safety?path=3.3,6.5;3.4,6.5&buffer_m=0", 400, "buffer_m"},
		{"/route-safety?path=3.3,6.5;3.4,6.5&buffer_m=2000", 400, "buffer_m"},
		{"/route-safety?path=3.3,6.5;3.4,6.5&at=soon", 400, "at"},
		{"/route-safety?path=3.3,6.5;3.4,6.5&days=400", 400, "days"},
		{"/route-safety?path=3.3,6.5;3.4,6.5", 200, ""},
		{"/route-safety?path=-179.99,0;179.99,0", 200, ""},
	}
	for _, tt := range tests {
		resp := api.Get(tt.query)
		if resp.Code != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.query, resp.Code, tt.status, resp.Body.String())
			continue
		}
		if tt.field == "" {
			continue
		}
		var body struct {
			Code   int
			Errors []struct{ Field string }
		}
		if err := json.Unmarshal(resp.Body.Bytes(), &body); err != nil || body.Code != 400 || len(body.Errors) == 0 {
			t.Errorf("%s: error body %s", tt.query, resp.Body.String())
			continue
		}
		if body.Errors[0].Field != tt.field {
			t.Errorf("%s: errors[0].field %q, want %q: %s", tt.query, body.Errors[0].Field, tt.field, resp.Body.String())
		}
	}
}

// Absent parameters take their documented defaults.
func TestParameterDefaults(t *testing.T) {
	api := mount(t)
	get := func(path string) map[string]any {
		t.Helper()
		resp := api.Get(path)
		if resp.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, resp.Code, resp.Body.String())
		}
		var m map[string]any
		if err := json.Unmarshal(resp.Body.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	days := func(m map[string]any) float64 {
		w := m["window"].(map[string]any)
		from, _ := time.Parse(time.RFC3339, w["from"].(string))
		to, _ := time.Parse(time.RFC3339, w["to"].(string))
		return to.Sub(from).Hours() / 24
	}
	if s := get("/safety/score?lat=6.5&lng=3.4"); s["radius_meters"] != 500.0 || days(s) != 90 {
		t.Fatalf("score defaults: radius %v, days %v", s["radius_meters"], days(s))
	}
	if a := get("/danger-analytics?lat=6.5&lng=3.4"); a["radius_meters"] != 1000.0 {
		t.Fatalf("analytics radius %v", a["radius_meters"])
	}
	if h := get("/heatmap?bbox=3.3,6.4,3.5,6.6"); h["cell_m"] != 250.0 {
		t.Fatalf("heatmap cell %v", h["cell_m"])
	}
	if h := get("/heatmap?bbox=3.3,6.4,3.5,6.6&zoom=15"); h["cell_m"] != threat.CellForZoom(15) {
		t.Fatalf("heatmap cell at zoom 15: %v", h["cell_m"])
	}
	if r := get("/route-safety?path=3.3,6.5;3.4,6.5"); r["buffer_m"] != 150.0 || days(r) != 90 {
		t.Fatalf("route defaults: buffer %v", r["buffer_m"])
	}
	if r := get("/route-safety?path=3.3,6.5;3.4,6.5&days=7"); days(r) != 7 {
		t.Fatalf("route days %v", days(r))
	}
	// Zones in a circle keep only those whose centre is inside it.
	z := get("/danger-zones?lat=" + ftoa(spotA.Lat()) + "&lng=" + ftoa(spotA.Lng()) + "&radius_m=1500")
	if zs := z["zones"].([]any); len(zs) != 1 {
		t.Fatalf("zones within 1.5 km of A: %v", zs)
	}
}

func ftoa(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

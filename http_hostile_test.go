package sety_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// A body nested past 64 levels is refused with 400 naming the limit by
// every operation that takes one, before anything walks it: 30,000 nested
// brackets fit in 60 KB, and a walk that recursed per level (building the
// path of each) took gigabytes. Depth counts brackets only outside strings.
func TestDeeplyNestedBodiesAreRefused(t *testing.T) {
	t.Parallel()
	ft := newFuzzTarget(newMemoryHarness(t))
	deep := strings.Repeat("[", 30000) + strings.Repeat("]", 30000)
	deepObject := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	for _, op := range ft.ops {
		route, _, err := ft.h.doc.router.FindRoute(httptest.NewRequest(op.method, base+op.path, nil))
		if err != nil {
			t.Fatal(err)
		}
		if route.Operation.RequestBody == nil {
			continue // it never reads a body
		}
		for _, body := range []string{deep, deepObject, strings.Repeat("[", 30000)} {
			rec := ft.send(t, op, []byte(body), "")
			wantStatus(t, rec, http.StatusBadRequest, "deeper than 64 levels")
		}
	}
	nested := func(depth int) string {
		// {"category":"sos", ..., "subject":{"metadata":{"x":[[...]]}}}: the
		// root object, subject and metadata are three levels.
		return `{"category":"sos","location":{"coordinates":[3.3792,6.5244]},"subject":{"metadata":{"x":` +
			strings.Repeat("[", depth-3) + strings.Repeat("]", depth-3) + `}}}`
	}
	at64 := wantStatus(t, ft.h.do(http.MethodPost, "/incidents", ft.h.live, nested(64)), http.StatusBadRequest)
	if msg := at64["message"].(string); strings.Contains(msg, "levels") || !strings.Contains(msg, "metadata") {
		t.Fatalf("64 levels: %q, want the metadata value refused for its type, not for its depth", msg)
	}
	wantStatus(t, ft.h.do(http.MethodPost, "/incidents", ft.h.live, nested(65)), http.StatusBadRequest, "deeper than 64 levels")
	// A body that is not JSON by its Content-Type is refused as such first.
	req := httptest.NewRequest(http.MethodPost, base+"/incidents", strings.NewReader(deep))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Authorization", "Bearer "+ft.h.live)
	wantStatus(t, ft.h.serve(req), http.StatusUnsupportedMediaType, "send Content-Type: application/json")
	// huma decodes CBOR by default: a valid CBOR create (an empty map, 0xa0,
	// then a body huma would check field by field) is refused as not JSON,
	// and creates nothing.
	req = httptest.NewRequest(http.MethodPost, base+"/incidents", strings.NewReader("\xa0"))
	req.Header.Set("Content-Type", "application/cbor")
	req.Header.Set("Authorization", "Bearer "+ft.h.live)
	wantStatus(t, ft.h.serve(req), http.StatusUnsupportedMediaType, `Content-Type "application/cbor" is not supported`)
	req = httptest.NewRequest(http.MethodPost, base+"/incidents", strings.NewReader(deep))
	req.Header.Set("Content-Type", "application/merge-patch+json; charset=utf-8")
	req.Header.Set("Authorization", "Bearer "+ft.h.live)
	wantStatus(t, ft.h.serve(req), http.StatusBadRequest, "deeper than 64 levels")
	// Brackets inside strings (and escaped quotes before them) are text.
	text := strings.Repeat(`[{\"`, 300)
	wantStatus(t, ft.h.do(http.MethodPost, "/incidents", ft.h.live,
		`{"category":"sos","location":{"coordinates":[3.3792,6.5244]},"description":"`+text+`"}`), http.StatusCreated)
}

// No query string gives a 5xx on any operation that reads one, on every
// store: a multi-value filter repeats no value and names only known ones
// (so it never holds more than its enum), and anything else wrong is a 400
// naming the parameter.
// (On SQLite here, on PostgreSQL in TestHTTPOnPostgres: SQL is where a long
// list could reach a limit.)
func TestHostileQueryStrings(t *testing.T) {
	t.Parallel()
	testHostileQueryStrings(t, newSQLiteHarness(t))
}

func testHostileQueryStrings(t *testing.T, h *harness) {
	ft := newFuzzTarget(h)
	repeat := func(param, value string, n int) string {
		return param + "=" + strings.TrimSuffix(strings.Repeat(value+",", n), ",")
	}
	statuses := "created,dispatching,assigned,responding,on_scene,resolved,cancelled"
	categories := "sos,vehicle,location_threat,medical"
	severities := "low,medium,high,critical"
	// Each refused with 400 naming the parameter by the incident list.
	refused := []struct{ query, param string }{
		{repeat("status", "created", 501), "status"},
		{repeat("status", "created", 250) + "&" + repeat("category", "sos", 250), "status"},
		{"status=" + statuses + ",created", "status"},
		{"status=created,CREATED", "status"},
		{"category=" + categories + ",sos", "category"},
		{"severity=high,high", "severity"},
		{"status=created&" + repeat("severity", "low", 1000), "severity"},
		{"status=created,,", "status"},
		{"status=" + strings.Repeat("x", 5000), "status"},
		{"category=sos,medical,%00", "category"},
		{"status=lost", "status"},
		{"from_date=2026-02-30", "from_date"},
		{"limit=1000000000000000000000", "limit"},
		{"page=0", "page"},
	}
	for _, tt := range refused {
		rec := ft.send(t, fuzzOp{"GET", "/incidents"}, nil, "?"+tt.query)
		wantStatus(t, rec, http.StatusBadRequest, tt.param)
	}
	// Every value of every enum at once is a filter, not an error.
	all := "?status=" + statuses + "&category=" + categories + "&severity=" + severities
	wantStatus(t, ft.send(t, fuzzOp{"GET", "/incidents"}, nil, all), http.StatusOK)

	// And no operation that reads a query answers any of these with a 5xx.
	hostile := []string{
		repeat("status", "created", 501), repeat("status", "pending", 501), repeat("status", "active", 501),
		repeat("status", "checked_in", 501), repeat("category", "sos", 250) + "&" + repeat("status", "created", 250),
		"status=created&status=created&status=resolved", "status=" + url.QueryEscape(strings.Repeat("created,", 4000)),
		"site=" + strings.Repeat("%25", 2000), "search=" + url.QueryEscape(`%_\'"; DROP TABLE incidents; --`),
		"search=" + strings.Repeat("a", 20000), "from_date=0000-01-01&to_date=9999-12-31", "from_date=9999-12-31T23:59:59Z",
		"page=999999999&limit=100", "page=-1", "limit=-1", "days=0", "days=99999999999999999999",
		"lat=NaN&lng=NaN", "lat=1e309&lng=-1e309", "bbox=" + strings.Repeat("1,", 10000), "bbox=180,90,-180,-90",
		"path=" + strings.Repeat("3.3,6.5;", 2000), "polyline=" + strings.Repeat("_p~iF~ps|U", 1000), "zoom=0", "cell_m=1e-300",
		"radius_m=-0", "min_level=" + strings.Repeat("z", 300), "at=not-a-time", "status=%E2%80%AE", "status=%00",
	}
	for _, q := range hostile {
		for _, op := range ft.reads {
			ft.send(t, op, nil, "?"+q)
		}
	}
}

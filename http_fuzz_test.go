package sety_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// fuzzTarget is the server with one of everything, shared by a fuzz run:
// ops are the operations that take a body, reads those that take a query.
type fuzzTarget struct {
	h     *harness
	ops   []fuzzOp
	reads []fuzzOp
}

type fuzzOp struct{ method, path string }

func newFuzzTarget(h *harness) *fuzzTarget {
	inc := h.do(http.MethodPost, "/incidents", h.live, sos)
	var created struct {
		Incident struct {
			ID string `json:"incident_id"`
		}
	}
	_ = json.Unmarshal(inc.Body.Bytes(), &created)
	code := h.do(http.MethodPost, "/access-codes", h.live, `{"site":"s","visitor":{"name":"v"}}`)
	var c struct {
		AccessCode struct {
			ID string `json:"code_id"`
		} `json:"access_code"`
	}
	_ = json.Unmarshal(code.Body.Bytes(), &c)
	lg := h.do(http.MethodPost, "/access-logs", h.live, `{"site":"s","visitor":{"name":"v"}}`)
	var l struct {
		AccessLog struct {
			ID string `json:"log_id"`
		} `json:"access_log"`
	}
	_ = json.Unmarshal(lg.Body.Bytes(), &l)
	ep := h.do(http.MethodPost, "/webhooks", h.live, `{"url":"http://127.0.0.1:1/x","events":["*"]}`)
	var e struct {
		Endpoint struct {
			ID string `json:"endpoint_id"`
		}
	}
	_ = json.Unmarshal(ep.Body.Bytes(), &e)
	return &fuzzTarget{h: h, ops: []fuzzOp{
		{http.MethodPost, "/incidents"},
		{http.MethodPost, "/incidents/" + created.Incident.ID + "/cancel"},
		{http.MethodPost, "/incidents/" + created.Incident.ID + "/notes"},
		{http.MethodPost, "/incidents/" + created.Incident.ID + "/status"},
		{http.MethodPut, "/responders/rsp_fuzz000000000001"},
		{http.MethodPost, "/access-codes"},
		{http.MethodPost, "/access-codes/validate"},
		{http.MethodPost, "/access-codes/" + c.AccessCode.ID + "/revoke"},
		{http.MethodPost, "/access-logs"},
		{http.MethodPatch, "/access-logs/" + l.AccessLog.ID + "/checkout"},
		{http.MethodPost, "/webhooks"},
		{http.MethodPatch, "/webhooks/" + e.Endpoint.ID},
		{http.MethodPost, "/api-keys"},
	}, reads: []fuzzOp{{"GET", "/incidents"}, {"GET", "/incidents/analytics"}, {"GET", "/access-codes"}, {"GET", "/access-logs"},
		{"GET", "/access-logs/stats"}, {"GET", "/access-logs/current"}, {"GET", "/webhooks"}, {"GET", "/webhooks/" + e.Endpoint.ID + "/deliveries"},
		{"GET", "/api-keys"}, {"GET", "/responders"}, {"GET", "/danger-zones"}, {"GET", "/heatmap"}, {"GET", "/safety/score"},
		{"GET", "/route-safety"}, {"GET", "/danger-analytics"}, {"GET", "/incidents/" + created.Incident.ID}}}
}

// send posts body to an operation and checks what every client relies on:
// never a 5xx, and every error is {code, message} with the status.
func (ft *fuzzTarget) send(t testing.TB, op fuzzOp, body []byte, query string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(op.method, base+op.path+query, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+ft.h.live)
	req.Header.Set("Content-Type", "application/json")
	rec := ft.h.serve(req)
	if rec.Code >= 500 {
		t.Fatalf("%s %s%.200s with %.200q: %d %s", op.method, op.path, query, body, rec.Code, rec.Body.String())
	}
	if rec.Code >= 400 {
		var e struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Code != rec.Code || e.Message == "" {
			t.Fatalf("%s %s%.200s with %.200q: error body %q", op.method, op.path, query, body, rec.Body.String())
		}
	}
	return rec
}

// FuzzRequestBodies sends arbitrary bodies to every operation that takes
// one. Its seeds and the corpus in testdata/fuzz run with go test ./...;
// go test . -run '^$' -fuzz FuzzRequestBodies explores.
func FuzzRequestBodies(f *testing.F) {
	for i, body := range []string{
		`{"category":"sos","location":{"coordinates":[3.3792,6.5244]}}`,
		`{"reason":"safe"}`,
		`{"message":"note"}`,
		`{"status":"resolved","outcome":"handled"}`,
		`{"name":"Unit","location":[3.38,6.52]}`,
		`{"site":"s","visitor":{"name":"v"},"max_uses":2}`,
		`{"code":"123456","site":"s"}`,
		`{}`,
		`{"site":"s","visitor":{"name":"v"},"expected_until":"2030-01-01T00:00:00Z"}`,
		`{"checked_out_at":"2026-03-10T14:22:05Z"}`,
		`{"url":"https://example.com/h","events":["incident.*"]}`,
		`{"status":"disabled"}`,
		`{"name":"k","scopes":["*"]}`,
	} {
		f.Add(uint8(i), []byte(body))
	}
	for _, hostile := range []string{
		``, `null`, `[]`, `"x"`, `1e999`, `{"category":"sos","location":{"coordinates":[NaN,1]}}`,
		`{"category":"sos","location":{"coordinates":[1e308,-1e308]}}`, `{"a":` + strings.Repeat("[", 5000),
		`{"name":"\u0000\ud800","scopes":["*"]}`, `{"site":"'; DROP TABLE access_logs; --","visitor":{"name":"\u202e"}}`,
		`{"message":"` + strings.Repeat("é", 3000) + `"}`, `{"code":"%_%","site":"%"}`,
	} {
		for op := range 13 {
			f.Add(uint8(op), []byte(hostile))
		}
	}
	ft := newFuzzTarget(newMemoryHarness(f))
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		ft.send(t, ft.ops[int(op)%len(ft.ops)], body, "")
	})
}

// FuzzListQueries sends arbitrary query strings to every operation that
// reads one, over SQLite.
func FuzzListQueries(f *testing.F) {
	for _, q := range []string{"page=1&limit=20", "page=-1", "limit=1000000000000000000000", "status=created,,", "from_date=2026-02-30",
		"search=%25", "bbox=1,2,3,4", "lat=NaN&lng=Inf", "path=1,2;3", "polyline=%7F", "days=-5", "category=sos&zoom=99"} {
		f.Add(q)
	}
	ft := newFuzzTarget(newSQLiteHarness(f)) // SQL is where a query string could reach a limit (IN lists)
	f.Fuzz(func(t *testing.T, q string) {
		if _, err := url.ParseQuery(q); err != nil || strings.ContainsAny(q, " #") {
			t.Skip() // not a query string a client could send
		}
		if _, err := url.ParseRequestURI(base + "/incidents?" + q); err != nil {
			t.Skip() // control characters and the like: no HTTP request carries them
		}
		for _, op := range ft.reads {
			ft.send(t, op, nil, "?"+q)
		}
	})
}

package sety_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/golang/mock/gomock"

	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/adapters/mock"
	"github.com/sety-io/sety/incident"
)

func TestUnknownRoutesAndMethods(t *testing.T) {
	t.Parallel()
	h := newMemoryHarness(t)
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodGet, "/v1/external/nope", 404, ""},
		{http.MethodGet, "/", 404, ""},
		{http.MethodGet, "/v2/incidents", 404, ""},
		{http.MethodDelete, "/v1/external/incidents", 405, "GET, POST"},
		{http.MethodPut, "/v1/external/incidents/inc_0000000000000000", 405, "GET"},
		{http.MethodGet, "/v1/external/incidents/inc_0000000000000000/cancel", 405, "POST"},
		{http.MethodPost, "/health", 405, "GET"},
	}
	for _, tt := range tests {
		rec := h.serve(httptest.NewRequest(tt.method, tt.path, nil))
		wantStatus(t, rec, tt.status)
		if got := rec.Header().Get("Allow"); got != tt.allow {
			t.Errorf("%s %s: Allow = %q, want %q", tt.method, tt.path, got, tt.allow)
		}
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	h := newMemoryHarness(t)
	for _, path := range []string{"/health", "/v1/external/health"} {
		rec := h.serve(httptest.NewRequest(http.MethodGet, path, nil))
		body := wantStatus(t, rec, http.StatusOK)
		if body["status"] != "ok" || body["api_version"] != "v1" || !timestampRE.MatchString(body["timestamp"].(string)) || len(body) != 3 {
			t.Fatalf("%s: %v", path, body)
		}
	}
	down := newHarness(t, brokenStorage{memory.New()})
	rec := down.serve(httptest.NewRequest(http.MethodGet, "/health", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", rec.Code)
	}
	body := decode(t, rec)
	if body["status"] != "unavailable" || body["code"] != 503.0 || body["message"] != "storage unavailable" {
		t.Fatalf("body %v", body)
	}
	if strings.Contains(rec.Body.String(), "disk") {
		t.Fatal("503 body leaks the cause")
	}
}

type brokenStorage struct{ *memory.Store }

func (brokenStorage) Ping(context.Context) error {
	return errors.New("disk I/O error at /var/lib/sety.db")
}

// failingStore puts a mock incident store with real auth storage.
type failingStore struct {
	*memory.Store
	incidents incident.Store
}

func (f failingStore) IncidentStore() incident.Store { return f.incidents }

func TestInternalErrorsLeakNothing(t *testing.T) {
	t.Parallel()
	ctrl := gomock.NewController(t)
	incidents := mock.NewIncidentStore(ctrl)
	cause := errors.New(`near "SELEC": syntax error in /srv/sety/adapters/sqlite/incident.go:42`)
	incidents.EXPECT().GetIncident(gomock.Any(), gomock.Any(), gomock.Any()).Return(nil, cause)
	h := newHarness(t, failingStore{Store: memory.New(), incidents: incidents})

	req := httptest.NewRequest(http.MethodGet, "/v1/external/incidents/inc_0000000000000001", nil)
	req.Header.Set("Authorization", "Bearer "+h.live)
	rec := h.serve(req)
	body := wantStatus(t, rec, http.StatusInternalServerError)
	if body["message"] != "internal error" || len(body) != 2 {
		t.Fatalf("500 body %v", body)
	}
	if logs := h.logs.String(); !strings.Contains(logs, "syntax error") {
		t.Fatalf("the cause is not logged:\n%s", logs)
	}
}

// Every 400 names its input the same way in errors[].field: a JSON path
// inside the body, or the parameter's name, whichever layer refused it
// (huma's schema validation or a service), and errors[].message does not
// repeat the field.
func TestErrorFieldsFollowOneConvention(t *testing.T) {
	t.Parallel()
	h := newMemoryHarness(t)
	loc := `"location":{"coordinates":[3,6]}`
	for _, tt := range []struct {
		method, path string
		body         any
		field        string
	}{
		{http.MethodPost, "/incidents", `{"category":7,` + loc + `}`, "category"},
		{http.MethodPost, "/incidents", `{"category":"sos","location":{"coordinates":[3,91]}}`, "location.coordinates"},
		{http.MethodPost, "/incidents", `{"category":"sos","location":{"coordinates":[3,6],"city":"Lagos"}}`, "location.city"},
		{http.MethodPost, "/incidents", `{"category":"sos",` + loc + `,"subject":{"phone":"0803"}}`, "subject.phone"},
		{http.MethodPost, "/api-keys", `{"name":"x","scopes":["incidents:delete"]}`, "scopes[0]"},
		{http.MethodPost, "/api-keys", `{"name":"x","scopes":["*"],"expires_at":"2020-01-01T00:00:00Z"}`, "expires_at"},
		{http.MethodGet, "/incidents?limit=0", nil, "limit"},
		{http.MethodGet, "/incidents?status=lost", nil, "status"},
		{http.MethodGet, "/incidents?from_date=yesterday", nil, "from_date"},
	} {
		body := wantStatus(t, h.do(tt.method, tt.path, h.live, tt.body), http.StatusBadRequest)
		errs, _ := body["errors"].([]any)
		if len(errs) == 0 {
			t.Errorf("%s %s %v: no errors[]: %v", tt.method, tt.path, tt.body, body)
			continue
		}
		first := errs[0].(map[string]any)
		if first["field"] != tt.field || strings.HasPrefix(first["message"].(string), tt.field+":") {
			t.Errorf("%s %s %v: errors[0] = %v, want field %q and a message that does not repeat it", tt.method, tt.path, tt.body, first, tt.field)
		}
		if !strings.HasPrefix(body["message"].(string), tt.field+": ") {
			t.Errorf("%s %s: message %q does not start with the field", tt.method, tt.path, body["message"])
		}
	}
}

// Keys are matched exactly: a key that differs from a field only in case,
// or a repeated key, is refused by name instead of overriding the field.
func TestBodyKeysAreCaseSensitive(t *testing.T) {
	t.Parallel()
	h := newMemoryHarness(t)
	loc := `"location":{"coordinates":[3.3792,6.5244]}`
	for body, field := range map[string]string{
		`{"category":"sos","CATEGORY":"medical",` + loc + `}`:                     "CATEGORY",
		`{"category":"sos","IS_DRILL":true,` + loc + `}`:                          "IS_DRILL",
		`{"category":"sos","location":{"Coordinates":[3.3792,6.5244]}}`:           "location.Coordinates",
		`{"category":"sos",` + loc + `,"subject":{"Name":"Amaka"}}`:               "subject.Name",
		`{"category":"sos","category":"medical",` + loc + `}`:                     "category",
		`{"category":"sos",` + loc + `,"subject":{"metadata":{"a":"1","a":"2"}}}`: "subject.metadata.a",
	} {
		rec := h.do(http.MethodPost, "/incidents", h.live, body)
		got := wantStatus(t, rec, http.StatusBadRequest, field)
		if errs := got["errors"].([]any); errs[0].(map[string]any)["field"] != field {
			t.Errorf("%s: errors %v, want field %s", body, errs, field)
		}
	}
	// Metadata keys are data, not fields: any case is kept as sent.
	rec := h.do(http.MethodPost, "/incidents", h.live, `{"category":"sos",`+loc+`,"subject":{"metadata":{"Trip":"1","trip":"2"}}}`)
	meta := wantStatus(t, rec, http.StatusCreated)["incident"].(map[string]any)["subject"].(map[string]any)["metadata"].(map[string]any)
	if meta["Trip"] != "1" || meta["trip"] != "2" {
		t.Fatalf("metadata %v", meta)
	}
	// Only that one incident exists: no refused body was half-applied.
	if total := decode(t, h.do(http.MethodGet, "/incidents", h.live, nil))["pagination"].(map[string]any)["total"]; total != 1.0 {
		t.Fatalf("%v incidents", total)
	}
}

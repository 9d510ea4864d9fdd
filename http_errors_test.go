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

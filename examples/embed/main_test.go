package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2/humatest"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/auth"
)

func setup(t *testing.T) (*http.ServeMux, humatest.TestAPI, string) {
	s, err := sety.New(memory.New(), sety.WithBasePath("/safety/v1/external"), sety.WithHealthAlias(""))
	if err != nil {
		t.Fatal(err)
	}
	org, _ := s.Auth.CreateOrganization(context.Background(), "Acme Rides", auth.Growth)
	_, key, err := s.Auth.IssueKey(context.Background(), auth.Tenant{OrgID: org.ID, Env: auth.Test}, auth.KeySpec{Name: "t", Scopes: []auth.Scope{auth.All}})
	if err != nil {
		t.Fatal(err)
	}
	mux, api := newService(s)
	return mux, humatest.Wrap(t, api), key
}

func TestHostAndSetyLiveSideBySide(t *testing.T) {
	mux, api, key := setup(t)

	// The host's operation works and keeps huma's own error format.
	if rec := api.Get("/rides/ride_1"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "in_progress") {
		t.Fatalf("host route: %d %s", rec.Code, rec.Body.String())
	}
	rec := api.Get("/rides/ride_2")
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), `"title":"Not Found"`) {
		t.Fatalf("host errors must stay huma's RFC 9457 shape: %s", rec.Body.String())
	}

	// Sety answers under its prefix, with its own error shape.
	rec = api.Post("/safety/v1/external/incidents", "Authorization: Bearer "+key,
		map[string]any{"category": "sos", "location": map[string]any{"coordinates": []float64{3.3792, 6.5244}}})
	if rec.Code != http.StatusCreated {
		t.Fatalf("create under the prefix: %d %s", rec.Code, rec.Body.String())
	}
	rec = api.Post("/safety/v1/external/incidents", "Authorization: Bearer "+key, map[string]any{"category": "fire"})
	var e map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &e)
	if rec.Code != http.StatusBadRequest || e["code"] != 400.0 || e["title"] != nil {
		t.Fatalf("Sety validation error: %d %s", rec.Code, rec.Body.String())
	}

	// Unknown paths under the prefix get Sety's JSON 404; the host's own
	// /health is untouched.
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/safety/v1/external/nope", nil))
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), `"code":404`) {
		t.Fatalf("unknown Sety path: %d %s", w.Code, w.Body.String())
	}
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/health", nil))
	if w.Body.String() != "host ok\n" {
		t.Fatalf("host /health replaced: %q", w.Body.String())
	}
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/safety/v1/external/health", nil))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"api_version":"v1"`) {
		t.Fatalf("Sety health under the prefix: %d %s", w.Code, w.Body.String())
	}
}

package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/examples/server/console"
)

// The server mounts the web console at /console, beside the API, with the
// API's base path in its configuration.
func TestConsoleMounted(t *testing.T) {
	h := newServer(t, memory.New())
	rec := h.serve(http.MethodGet, "/console", "")
	if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/console/" {
		t.Fatalf("GET /console: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	rec = h.serve(http.MethodGet, "/console/", "")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" ||
		!strings.Contains(rec.Body.String(), `&#34;api_base&#34;:&#34;/v1/external&#34;`) {
		t.Fatalf("GET /console/: %d %q\n%.400s", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
	}
	for p, ctype := range map[string]string{
		"/console/app.js":                                "text/javascript; charset=utf-8",
		"/console/console.css":                           "text/css; charset=utf-8",
		"/console/vendor/leaflet/leaflet.js":             "text/javascript; charset=utf-8",
		"/console/vendor/leaflet/leaflet.css":            "text/css; charset=utf-8",
		"/console/vendor/leaflet/LICENSE":                "text/plain; charset=utf-8",
		"/console/vendor/leaflet/images/marker-icon.png": "image/png",
	} {
		rec := h.serve(http.MethodGet, p, "")
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != ctype {
			t.Errorf("GET %s: %d %q, want 200 %q", p, rec.Code, rec.Header().Get("Content-Type"), ctype)
		}
	}
	// The API's JSON route errors are untouched.
	rec = h.serve(http.MethodGet, "/v1/external/nope", "")
	if rec.Code != http.StatusNotFound || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Errorf("API 404: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}

func TestConsoleTilesFlag(t *testing.T) {
	c, err := parseConfig(nil, env(map[string]string{"SETY_CONSOLE_TILES": "https://tile.openstreetmap.org/{z}/{x}/{y}.png"}), io.Discard)
	if err != nil || c.consoleTiles != "https://tile.openstreetmap.org/{z}/{x}/{y}.png" {
		t.Fatalf("%+v %v", c.consoleTiles, err)
	}
	h := newServer(t, memory.New())
	handler, _ := newServerHandler(h.sety, slog.New(slog.DiscardHandler), mounts{console: console.Config{Tiles: c.consoleTiles}})
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/console/", nil))
	if !strings.Contains(rec.Body.String(), "https://tile.openstreetmap.org/{z}/{x}/{y}.png") ||
		!strings.Contains(rec.Header().Get("Content-Security-Policy"), "img-src 'self' data: https://tile.openstreetmap.org;") {
		t.Errorf("tiles not configured: %q", rec.Header().Get("Content-Security-Policy"))
	}
}

// The API docs at /docs are the embedded Swagger UI: the page and its
// assets come from the server, and it reads the server's document.
func TestDocsServedByTheServer(t *testing.T) {
	h := newServer(t, memory.New())
	rec := h.serve(http.MethodGet, "/docs", "")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `data-url="/openapi.json"`) ||
		strings.Contains(rec.Body.String(), "https://") {
		t.Fatalf("GET /docs: %d\n%.600s", rec.Code, rec.Body.String())
	}
	for _, p := range []string{"/docs/swagger-ui/swagger-ui-bundle.js", "/docs/swagger-ui/swagger-ui.css", "/docs/init.js", "/openapi.json"} {
		if rec := h.serve(http.MethodGet, p, ""); rec.Code != http.StatusOK {
			t.Errorf("GET %s: %d", p, rec.Code)
		}
	}
}

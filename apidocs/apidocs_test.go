package apidocs_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/sety-io/sety/apidocs"
)

func get(h http.Handler, method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

// The page and everything it loads come from the server itself.
func TestThePageLoadsOnlyFromTheServer(t *testing.T) {
	h := apidocs.New(apidocs.Config{Title: "Sety API reference", SpecURL: "/openapi.json", Path: "/docs"})
	rec := get(h, http.MethodGet, "/docs")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /docs: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	page := rec.Body.String()
	if !strings.Contains(page, "<title>Sety API reference</title>") || !strings.Contains(page, `data-url="/openapi.json"`) {
		t.Fatalf("page:\n%s", page)
	}
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self';", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 4 {
		t.Fatalf("the page references %d resources", len(refs))
	}
	for _, m := range refs {
		ref := m[1]
		if !strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "//") {
			t.Errorf("the page loads %q, not from this server", ref)
			continue
		}
		if ref == "/openapi.json" {
			continue
		}
		asset := get(h, http.MethodGet, ref)
		if asset.Code != http.StatusOK || asset.Body.Len() == 0 || asset.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d, %d bytes", ref, asset.Code, asset.Body.Len())
		}
	}
	init := get(h, http.MethodGet, "/docs/init.js").Body.String()
	if !strings.Contains(init, "validatorUrl: null") {
		t.Error("Swagger UI's validator badge (an outside request) is not turned off")
	}
}

func TestUnknownAndWrong(t *testing.T) {
	h := apidocs.New(apidocs.Config{})
	for _, target := range []string{"/docs/nope.js", "/docs/../apidocs.go", "/docs/index.html", "/other"} {
		if rec := get(h, http.MethodGet, target); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d", target, rec.Code)
		}
	}
	if rec := get(h, http.MethodPost, "/docs"); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
	first := get(h, http.MethodGet, "/docs/swagger-ui/swagger-ui.css")
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/docs/swagger-ui/swagger-ui.css", nil)
	req.Header.Set("If-None-Match", first.Header().Get("ETag"))
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("revalidation: %d", rec.Code)
	}
}

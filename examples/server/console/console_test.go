package console

import (
	"html"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestPageAndRedirect(t *testing.T) {
	h := New(Config{})
	rec := get(t, h, "/console")
	if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/console/" {
		t.Fatalf("GET /console: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	rec = get(t, h, "/console/")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /console/: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	body := rec.Body.String()
	for _, want := range []string{`<title>Sety operations console</title>`, `id="signin-form"`, `id="map"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	conf := metaConfig(t, body)
	if conf != `{"tiles":"","tile_attribution":"","api_base":"/v1/external"}` {
		t.Errorf("config = %s", conf)
	}
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "connect-src 'self'", "img-src 'self' data:;", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no nosniff")
	}
	// Revalidation by ETag.
	rec2 := get(t, h, "/console/", "If-None-Match", rec.Header().Get("ETag"))
	if rec2.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", rec2.Code)
	}
}

// metaConfig is the JSON the page reads from its sety-console-config meta tag.
func metaConfig(t *testing.T, page string) string {
	t.Helper()
	m := regexp.MustCompile(`<meta name="sety-console-config" content="([^"]*)">`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no config meta tag")
	}
	return html.UnescapeString(m[1])
}

var wantTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".png":  "image/png",
	".svg":  "image/svg+xml",
	"":      "text/plain; charset=utf-8",
}

func TestEveryAssetServedWithItsType(t *testing.T) {
	h := New(Config{})
	files, _ := fs.Sub(assets, "static")
	n := 0
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		rec := get(t, h, "/console/"+p)
		if rec.Code != http.StatusOK {
			t.Errorf("%s: %d", p, rec.Code)
		}
		if got, want := rec.Header().Get("Content-Type"), wantTypes[path.Ext(p)]; got != want {
			t.Errorf("%s: Content-Type %q, want %q", p, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"vendor/leaflet/leaflet.js", "vendor/leaflet/leaflet.css", "vendor/leaflet/LICENSE", "vendor/leaflet/images/layers.png", "app.js", "sse.js", "stream.js"} {
		if _, err := fs.Stat(files, p); err != nil {
			t.Errorf("missing asset %s", p)
		}
	}
	if n < 10 {
		t.Errorf("only %d assets", n)
	}
}

func TestNotFoundAndMethods(t *testing.T) {
	h := New(Config{})
	for _, p := range []string{"/console/nope.js", "/console/../console.go", "/console/./app.js", "/console/vendor/", "/console//app.js", "/elsewhere"} {
		if rec := get(t, h, p); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/console/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
}

// references is every src or href of the page and every relative import of
// a module: each must be an embedded asset.
func TestReferencesResolve(t *testing.T) {
	h := New(Config{})
	page := get(t, h, "/console/").Body.String()
	refs := regexp.MustCompile(`(?:src|href)="([^"#]+)"`).FindAllStringSubmatch(page, -1)
	files, _ := fs.Sub(assets, "static")
	imports := regexp.MustCompile(`(?m)^\s*(?:import|export)\b[^'"]*['"](\./[^'"]+)['"]`)
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".js" || strings.HasPrefix(p, "vendor/") {
			return err
		}
		b, _ := fs.ReadFile(files, p)
		for _, m := range imports.FindAllStringSubmatch(string(b), -1) {
			refs = append(refs, []string{"", path.Join(path.Dir(p), m[1])})
		}
		return nil
	})
	if len(refs) < 8 {
		t.Fatalf("only %d references found", len(refs))
	}
	for _, r := range refs {
		if rec := get(t, h, "/console/"+strings.TrimPrefix(r[1], "./")); rec.Code != http.StatusOK {
			t.Errorf("reference %s: %d", r[1], rec.Code)
		}
	}
}

var urlRE = regexp.MustCompile(`(?i)\bhttps?://[^\s"'()<>\\` + "`" + `]+`)

// Links that are never fetched: XML namespaces, and Leaflet's own home page
// in its header comment and attribution prefix (the console replaces the prefix).
var notFetched = map[string]bool{
	"http://www.w3.org/2000/svg": true,
	"https://leafletjs.com":      true,
}

// TestNoExternalURLs: nothing the console serves points outside this origin,
// except the tile template it is configured with.
func TestNoExternalURLs(t *testing.T) {
	const tiles = "https://{s}.tile.example.org/{z}/{x}/{y}.png"
	h := New(Config{Tiles: tiles, TileAttribution: "Example tiles"})
	files, _ := fs.Sub(assets, "static")
	cssComment := regexp.MustCompile(`(?s)/\*.*?\*/`)
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) == ".png" || path.Base(p) == "LICENSE" {
			return err
		}
		text := get(t, h, "/console/"+p).Body.String()
		if path.Ext(p) == ".css" {
			text = cssComment.ReplaceAllString(text, "") // bug-tracker links in comments
		}
		if p == "index.html" {
			conf := metaConfig(t, text)
			if !strings.Contains(conf, `"tiles":"`+tiles+`"`) {
				t.Errorf("tile template not in the page config: %s", conf)
			}
			text = strings.ReplaceAll(html.UnescapeString(text), tiles, "")
		}
		for _, u := range urlRE.FindAllString(text, -1) {
			if !notFetched[strings.TrimRight(u, ".,;")] {
				t.Errorf("%s references %s", p, u)
			}
		}
		return nil
	})
	csp := get(t, h, "/console/").Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "img-src 'self' data: https://*.tile.example.org;") {
		t.Errorf("CSP does not allow the tile host: %s", csp)
	}
}

func TestTileOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"": "",
		"https://tile.openstreetmap.org/{z}/{x}/{y}.png":        "https://tile.openstreetmap.org",
		"https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png":    "https://*.tile.openstreetmap.org",
		"http://localhost:8081/tiles/{z}/{x}/{y}.png?key=abc":   "http://localhost:8081",
		"/tiles/{z}/{x}/{y}.png":                                "",
		"javascript:alert(1)":                                   "",
		"https://tiles.example/{z}/{x}/{y}{r}.png?style=bright": "https://tiles.example",
	} {
		if got := tileOrigin(in); got != want {
			t.Errorf("tileOrigin(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOpenStreetMapAttribution(t *testing.T) {
	h := New(Config{Tiles: "https://tile.openstreetmap.org/{z}/{x}/{y}.png"})
	conf := metaConfig(t, get(t, h, "/console/").Body.String())
	if !strings.Contains(conf, "OpenStreetMap") {
		t.Errorf("no OpenStreetMap credit: %s", conf)
	}
}

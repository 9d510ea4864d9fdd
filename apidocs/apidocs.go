// Package apidocs serves browsable API documentation for an OpenAPI
// document, with Swagger UI embedded in the binary: the page loads its
// scripts and styles from the server that serves it, never from a CDN, so
// it works offline and under a strict Content-Security-Policy.
//
// huma's built-in docs page loads its renderer from a CDN; sety.NewAPIConfig
// turns it off, and a server mounts this handler instead:
//
//	h := apidocs.New(apidocs.Config{Title: "Sety API", SpecURL: "/openapi.json"})
//	mux.Handle("GET /docs", h)
//	mux.Handle("GET /docs/", h)
//
// Swagger UI is vendored from the swagger-ui-dist npm package (`npm ci &&
// npm run vendor` in this folder), under its Apache-2.0 licence
// (static/swagger-ui/LICENSE).
package apidocs

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var assets embed.FS

// Config is what the docs page shows.
type Config struct {
	// Title of the page; default "API reference".
	Title string
	// SpecURL is the OpenAPI document's URL on the same origin; default
	// "/openapi.json".
	SpecURL string
	// Path is where the handler is mounted; default "/docs".
	Path string
}

// csp allows scripts, styles, images and fetches from this origin only.
// Swagger UI sets style attributes, hence 'unsafe-inline' for styles
// (never for scripts).
const csp = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

type handler struct {
	path  string // the mount path, without a trailing slash
	index []byte
	files fs.FS
	etags map[string]string
}

var contentTypes = map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", "": "text/plain; charset=utf-8"}

// New returns the docs handler. Mount it at cfg.Path and cfg.Path + "/":
// the page is served at the first, its assets under the second.
func New(cfg Config) http.Handler {
	if cfg.Title == "" {
		cfg.Title = "API reference"
	}
	if cfg.SpecURL == "" {
		cfg.SpecURL = "/openapi.json"
	}
	if cfg.Path == "" {
		cfg.Path = "/docs"
	}
	files, err := fs.Sub(assets, "static")
	if err != nil {
		panic(err)
	}
	h := &handler{path: strings.TrimSuffix(cfg.Path, "/"), files: files, etags: map[string]string{}}
	raw, err := fs.ReadFile(files, "index.html")
	if err != nil {
		panic(err)
	}
	var b bytes.Buffer
	page := template.Must(template.New("index").Parse(string(raw)))
	if err := page.Execute(&b, struct{ Title, SpecURL, Prefix string }{cfg.Title, cfg.SpecURL, h.path + "/"}); err != nil {
		panic(err)
	}
	h.index = b.Bytes()
	h.etags[""] = etag(h.index)
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && p != "index.html" {
			if content, err := fs.ReadFile(files, p); err == nil {
				h.etags[p] = etag(content)
			}
		}
		return err
	})
	return h
}

func etag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := ""
	if r.URL.Path != h.path && r.URL.Path != h.path+"/" {
		var ok bool
		if name, ok = strings.CutPrefix(r.URL.Path, h.path+"/"); !ok || name != path.Clean(name) || name == "index.html" {
			http.NotFound(w, r)
			return
		}
	}
	tag, ok := h.etags[name]
	ctype, known := contentTypes[path.Ext(name)]
	if name == "" {
		ctype, known = "text/html; charset=utf-8", true
	}
	if !ok || !known {
		http.NotFound(w, r)
		return
	}
	body := h.index
	if name != "" {
		body, _ = fs.ReadFile(h.files, name)
	}
	hd := w.Header()
	hd.Set("Content-Type", ctype)
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", tag)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", csp)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

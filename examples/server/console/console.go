// Package console is the Sety operations console: a single-page web app a
// dispatcher runs a shift from. It shows live incidents in triage order
// (unassigned critical and SOS first, then SLA breached, at risk, then
// severity and age) with SLA countdowns and alerts for new urgent ones,
// incidents (clustered) and responders on a map with the heatmap and
// danger zones, and acts on incidents through the Sety v1 API: assign or
// reassign a responder from the nearest available, report progress,
// resolve, cancel, add notes. Below 700 px wide it shows one pane at a
// time (queue, map, detail) under a one-row top bar whose sound,
// desktop-alert and sign-out buttons fold into a menu.
//
// Its assets (HTML, JavaScript modules, CSS and vendored copies of Leaflet
// and Leaflet.markercluster) are embedded, so the console needs nothing
// from a CDN: with no tile URL configured the map draws a graticule and the
// overlays on a plain background, and works on a machine without Internet
// access.
//
//	mux.Handle("/console", console.New(console.Config{}))
//	mux.Handle("/console/", console.New(console.Config{}))
//
// The page signs in by exchanging an API key for a session (POST
// /sessions under APIBase): the server answers with an HttpOnly,
// SameSite=Strict cookie that authenticates the page's later requests,
// which send the X-Sety-CSRF header on writes. The key is never kept in
// the page's memory, storage or cookies; a reload finds the session again
// (GET /sessions/current), and signing out ends it on the server. When
// the API refuses the session (it expired, or its key was revoked) the
// page shows the sign-in again and says so.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

//go:embed static
var assets embed.FS

// Config is what the console can be told.
type Config struct {
	// Tiles is the map tile URL template, e.g.
	// "https://tile.openstreetmap.org/{z}/{x}/{y}.png" ({s} for a subdomain,
	// {z}/{x}/{y} the tile). Empty (the default): no tiles, a drawn graticule.
	Tiles string
	// TileAttribution is shown on the map when Tiles is set; empty gives
	// the OpenStreetMap credit for openstreetmap.org tiles.
	TileAttribution string
	// Path is where the console is mounted; default "/console".
	Path string
	// APIBase is the path of the Sety API on the same origin; default
	// "/v1/external".
	APIBase string
}

// pageConfig is the part of Config the page reads, from a <meta> tag.
type pageConfig struct {
	Tiles           string `json:"tiles"`
	TileAttribution string `json:"tile_attribution"`
	APIBase         string `json:"api_base"`
}

type handler struct {
	prefix string // mount path with its trailing slash
	index  []byte // the rendered page
	csp    string
	files  fs.FS
	etags  map[string]string
}

// New returns the console's handler. Mount it at both cfg.Path and
// cfg.Path + "/": the first redirects to the second.
func New(cfg Config) http.Handler {
	if cfg.Path == "" {
		cfg.Path = "/console"
	}
	if cfg.APIBase == "" {
		cfg.APIBase = "/v1/external"
	}
	if cfg.Tiles != "" && cfg.TileAttribution == "" && strings.Contains(cfg.Tiles, "openstreetmap.org") {
		cfg.TileAttribution = `&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors`
	}
	files, err := fs.Sub(assets, "static")
	if err != nil {
		panic(err)
	}
	h := &handler{
		prefix: strings.TrimSuffix(cfg.Path, "/") + "/",
		files:  files,
		etags:  map[string]string{},
		csp:    contentSecurityPolicy(cfg.Tiles),
	}
	h.index = renderIndex(files, pageConfig{Tiles: cfg.Tiles, TileAttribution: cfg.TileAttribution, APIBase: cfg.APIBase})
	h.etags["index.html"] = etag(h.index)
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && p != "index.html" {
			b, _ := fs.ReadFile(files, p)
			h.etags[p] = etag(b)
		}
		return err
	})
	return h
}

func renderIndex(files fs.FS, pc pageConfig) []byte {
	raw, err := fs.ReadFile(files, "index.html")
	if err != nil {
		panic(err)
	}
	t := template.Must(template.New("index").Parse(string(raw)))
	js, _ := json.Marshal(pc)
	var b bytes.Buffer
	if err := t.Execute(&b, struct{ Config string }{string(js)}); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// contentSecurityPolicy allows scripts, styles and data from this origin
// only, plus images from the tile server when one is configured.
func contentSecurityPolicy(tiles string) string {
	img := "'self' data:"
	if o := tileOrigin(tiles); o != "" {
		img += " " + o
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src " + img +
		"; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

// tileOrigin is the scheme and host of a tile template, with {s} as a
// wildcard subdomain ("https://*.tile.example.org").
func tileOrigin(tiles string) string {
	if tiles == "" {
		return ""
	}
	u, err := url.Parse(strings.ReplaceAll(strings.ReplaceAll(tiles, "{s}", "s"), "{", "%7B"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	host := u.Host
	if strings.HasPrefix(tiles, u.Scheme+"://{s}.") {
		host = "*" + strings.TrimPrefix(host, "s")
	}
	return u.Scheme + "://" + host
}

func etag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".png":  "image/png",
	".svg":  "image/svg+xml",
	".json": "application/json",
	"":      "text/plain; charset=utf-8", // LICENSE
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Path+"/" == h.prefix {
		http.Redirect(w, r, h.prefix, http.StatusMovedPermanently)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, h.prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if name == "" {
		name = "index.html"
	}
	if name != path.Clean(name) || strings.HasPrefix(name, ".") {
		http.NotFound(w, r)
		return
	}
	tag, ok := h.etags[name]
	ctype, known := contentTypes[path.Ext(name)]
	if !ok || !known {
		http.NotFound(w, r)
		return
	}
	var body []byte
	if name == "index.html" {
		body = h.index
	} else {
		body, _ = fs.ReadFile(h.files, name)
	}
	hd := w.Header()
	hd.Set("Content-Type", ctype)
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", tag)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", h.csp)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

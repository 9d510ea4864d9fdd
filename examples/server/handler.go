package main

import (
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/apidocs"
	"github.com/sety-io/sety/examples/server/console"
)

// newHandler builds the server's whole HTTP stack: huma on a ServeMux with
// Sety registered, the web console at /console, the API docs at /docs
// (Swagger UI, embedded), JSON 404/405 for unmatched requests, panic
// recovery and request logging. Tests use the returned API through
// humatest.
func newHandler(s *sety.Sety, log *slog.Logger) (http.Handler, huma.API) {
	return newServerHandler(s, log, mounts{})
}

// mounts are what the server serves beside Sety's API.
type mounts struct {
	console console.Config      // the web console's settings (its map tiles)
	metrics prometheus.Gatherer // served at /metrics; nil: none
}

// newServerHandler is newHandler with the server's own mounts; the
// console's API base is Sety's. Sety is the whole API here, so nothing can
// clash with it: an error of Register is a bug of this server.
func newServerHandler(s *sety.Sety, log *slog.Logger, m mounts) (http.Handler, huma.API) {
	mux := http.NewServeMux()
	api := humago.New(mux, sety.NewAPIConfig())
	if err := s.Register(api); err != nil {
		panic(err)
	}
	if m.metrics != nil {
		mux.Handle("GET /metrics", metricsHandler(m.metrics, log))
	}
	cc := m.console
	cc.Path, cc.APIBase = "/console", s.BasePath()
	ch := console.New(cc)
	mux.Handle("/console", ch)
	mux.Handle("/console/", ch)
	docs := apidocs.New(apidocs.Config{Title: "Sety API reference", SpecURL: "/openapi.json", Path: "/docs"})
	mux.Handle("/docs", docs)
	mux.Handle("/docs/", docs)
	mux.Handle("/", s.RouteErrors(mux))
	return logRequests(log, recoverPanics(log, mux), "/health", s.BasePath()+"/health"), api
}

// metricsHandler serves g in the Prometheus exposition format.
func metricsHandler(g prometheus.Gatherer, log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)})
}

// metricsOnly serves g at /metrics and answers every other request with
// a JSON 404: the handler of -metrics-addr's own listener.
func metricsOnly(g prometheus.Gatherer, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metricsHandler(g, log))
	mux.Handle("/", sety.RouteErrors(mux))
	return mux
}

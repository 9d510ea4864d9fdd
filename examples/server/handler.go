package main

import (
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/examples/server/console"
)

// newHandler builds the server's whole HTTP stack: huma on a ServeMux with
// Sety registered, the web console at /console, JSON 404/405 for unmatched
// requests, panic recovery and request logging. Tests use the returned API
// through humatest.
func newHandler(s *sety.Sety, log *slog.Logger) (http.Handler, huma.API) {
	return newHandlerWithConsole(s, log, console.Config{})
}

// newHandlerWithConsole is newHandler with the console's settings (its map
// tiles); the console's API base is Sety's.
func newHandlerWithConsole(s *sety.Sety, log *slog.Logger, cc console.Config) (http.Handler, huma.API) {
	mux := http.NewServeMux()
	api := humago.New(mux, sety.NewAPIConfig())
	s.Register(api)
	cc.Path, cc.APIBase = "/console", s.BasePath()
	ch := console.New(cc)
	mux.Handle("/console", ch)
	mux.Handle("/console/", ch)
	mux.Handle("/", sety.RouteErrors(mux))
	return logRequests(log, recoverPanics(log, mux)), api
}

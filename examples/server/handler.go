package main

import (
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/sety-io/sety"
)

// newHandler builds the server's whole HTTP stack: huma on a ServeMux with
// Sety registered, JSON 404/405 for unmatched requests, panic recovery and
// request logging. Tests use the returned API through humatest.
func newHandler(s *sety.Sety, log *slog.Logger) (http.Handler, huma.API) {
	mux := http.NewServeMux()
	api := humago.New(mux, sety.NewAPIConfig())
	s.Register(api)
	mux.Handle("/", sety.RouteErrors(mux))
	return logRequests(log, recoverPanics(log, mux)), api
}

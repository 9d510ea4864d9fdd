package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/sety-io/sety/setyerr"
)

var probeMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// RouteErrors answers requests that no route of mux matched with the wire
// error: 405 (with Allow) when the path exists under another method, 404
// otherwise. Register it on mux as the catch-all pattern of the prefix it
// guards ("/" or "/v1/external/"); the mux still prefers every more specific
// route, so only unmatched requests reach it.
func RouteErrors(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, self := mux.Handler(r)
		var allow []string
		for _, m := range probeMethods {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != self && pattern != "" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			WriteBody(w, &setyerr.Body{Code: http.StatusMethodNotAllowed, Message: "method " + r.Method + " not allowed on " + r.URL.Path})
			return
		}
		WriteBody(w, &setyerr.Body{Code: http.StatusNotFound, Message: "no such route: " + r.URL.Path})
	})
}

// WriteBody writes a wire error from plain net/http code.
func WriteBody(w http.ResponseWriter, body *setyerr.Body) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(body.Code)
	_ = json.NewEncoder(w).Encode(body)
}

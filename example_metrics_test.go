package sety_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
)

// Requests no operation matches are answered with the JSON error, and
// counted in the metrics as operation "unknown": one series whatever the
// path, so a scan shows in the request rate without naming anything.
func ExampleSety_RouteErrors() {
	reg := prometheus.NewRegistry()
	s, _ := sety.New(memory.New(), sety.WithMetrics(reg))
	mux := http.NewServeMux()
	if err := s.Register(humago.New(mux, huma.DefaultConfig("My API", "1.0.0"))); err != nil {
		panic(err)
	}
	mux.Handle(s.BasePath()+"/", s.RouteErrors(mux))

	for _, path := range []string{"/v1/external/wp-admin", "/v1/external/.env"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	families, _ := reg.Gather()
	for _, f := range families {
		if f.GetName() != "sety_http_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			fmt.Println(f.GetName(), labels, m.GetCounter().GetValue())
		}
	}
	// Output:
	// 404 {"code":404,"message":"no such route: /v1/external/wp-admin"}
	// 404 {"code":404,"message":"no such route: /v1/external/.env"}
	// sety_http_requests_total map[operation:unknown status:404] 2
}

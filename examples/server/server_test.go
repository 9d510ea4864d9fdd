package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/internal/syncbuf"
)

// server is the example server's handler over a store, with its logs, an
// organization and its all-scope live key.
type server struct {
	sety    *sety.Sety
	org     *auth.Organization
	handler http.Handler
	logs    *syncbuf.Buffer
	key     string
}

func newServer(t *testing.T, stores sety.Stores, opts ...sety.Option) *server {
	t.Helper()
	logs := &syncbuf.Buffer{}
	s, err := sety.New(stores, append(opts, sety.WithLogger(newLogger(logs, "json")), sety.WithHealthAlias("/health"))...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	org, err := s.Auth.CreateOrganization(ctx, "Acme Rides", auth.Growth)
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := s.Auth.IssueKey(ctx, auth.Tenant{OrgID: org.ID, Env: auth.Live}, auth.KeySpec{Name: "test", Scopes: []auth.Scope{auth.All}})
	if err != nil {
		t.Fatal(err)
	}
	handler, _ := newHandler(s, newLogger(logs, "json"))
	return &server{sety: s, org: org, handler: handler, logs: logs, key: key}
}

func (s *server) serve(method, path, body string) *httptest.ResponseRecorder {
	return s.serveAs(s.key, method, path, body)
}

func (s *server) serveAs(key, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	return rec
}

package sety_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/danielgtaylor/huma/v2/humatest"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/adapters/sqlite"
	"github.com/sety-io/sety/adapters/storetest"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/internal/syncbuf"
	"github.com/sety-io/sety/webhook"
)

// harness is Sety's HTTP API on a ServeMux (as a server mounts it) over one store, with an
// organization and keys ready, a fake clock and captured logs.
type harness struct {
	t       testing.TB
	stores  storetest.Stores
	sety    *sety.Sety
	api     humatest.TestAPI
	handler http.Handler
	clock   *clock.Fake
	logs    *syncbuf.Buffer
	doc     *contract // the OpenAPI document the API serves
	org     *auth.Organization
	live    string // live key with every scope
	test    string // test key of the same organization
}

var t0 = time.Date(2026, 3, 10, 14, 22, 5, 412e6, time.UTC)

func newMemoryHarness(t testing.TB) *harness { return newHarness(t, memory.New()) }

func newSQLiteHarness(t testing.TB) *harness { return newSQLiteHarnessSync(t, "NORMAL") }

// newSQLiteHarnessSync opens the database with the given synchronous mode:
// tests use NORMAL (a crash-safe, fsync-free mode), benchmarks measure both.
func newSQLiteHarnessSync(t testing.TB, synchronous string) *harness {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sety.db"), &sqlite.Options{Synchronous: synchronous})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return newHarness(t, db)
}

func newHarness(t testing.TB, stores storetest.Stores) *harness { return newHarnessWith(t, stores) }

// newHarnessWith is newHarness with more options, which come last.
func newHarnessWith(t testing.TB, stores storetest.Stores, more ...sety.Option) *harness {
	t.Helper()
	h := &harness{t: t, stores: stores, clock: clock.NewFake(t0), logs: &syncbuf.Buffer{}}
	log := jsonLogger(h.logs)
	opts := append([]sety.Option{sety.WithClock(h.clock.Now), sety.WithLogger(log), sety.WithOperationsConsole(), sety.WithHealthAlias("/health"),
		sety.WithWebhooks(webhook.Config{AllowPrivate: true, AllowInsecure: true}), sety.WithRateLimiter(nil)}, more...)
	s, err := sety.New(stores, opts...)
	if err != nil {
		t.Fatal(err)
	}
	h.sety = s
	h.mount(newHandler(s))
	h.org, h.live, h.test = h.newOrg("Acme Rides")
	return h
}

// mount serves handler and api, every response checked against the
// OpenAPI document api serves (benchmarks skip the check).
func (h *harness) mount(handler http.Handler, api huma.API) {
	if _, bench := h.t.(*testing.B); !bench {
		h.doc = contractOf(h.t, api)
		handler, api = h.doc.wrap(h.t, handler, api)
	}
	h.handler, h.api = handler, humatest.Wrap(h.t, api)
}

// newOrg creates an organization with an all-scope live and test key.
func (h *harness) newOrg(name string) (*auth.Organization, string, string) {
	h.t.Helper()
	ctx := context.Background()
	org, err := h.sety.Auth.CreateOrganization(ctx, name, auth.Growth)
	if err != nil {
		h.t.Fatal(err)
	}
	return org, h.key(org, auth.Live, auth.All), h.key(org, auth.Test, auth.All)
}

// key issues a key of org in env holding scopes.
func (h *harness) key(org *auth.Organization, env auth.Environment, scopes ...auth.Scope) string {
	h.t.Helper()
	_, secret, err := h.sety.Auth.IssueKey(context.Background(), auth.Tenant{OrgID: org.ID, Env: env}, auth.KeySpec{Name: "test", Scopes: scopes})
	if err != nil {
		h.t.Fatal(err)
	}
	return secret
}

const base = "/v1/external"

// do sends a request with key (none when empty) and an optional body
// (a string is sent raw, anything else as JSON).
func (h *harness) do(method, path, key string, body any) *httptest.ResponseRecorder {
	h.t.Helper()
	args := []any{}
	if key != "" {
		args = append(args, "Authorization: Bearer "+key)
	}
	switch b := body.(type) {
	case nil:
	case string:
		args = append(args, "Content-Type: application/json", strings.NewReader(b))
	default:
		args = append(args, b)
	}
	return h.api.Do(method, base+path, args...)
}

// serve sends a raw request through the full handler (logging, recovery,
// route errors), as a network client would.
func (h *harness) serve(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	return rec
}

// decode parses a response body into a generic JSON value.
func decode(t testing.TB, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, rec.Body.String())
	}
	return v
}

// wantStatus fails unless rec has status; for errors it also checks the
// {code, message} shape and that the message mentions each of mention.
func wantStatus(t testing.TB, rec *httptest.ResponseRecorder, status int, mention ...string) map[string]any {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body %s", rec.Code, status, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want JSON", ct)
	}
	body := decode(t, rec)
	if status >= 400 {
		code, _ := body["code"].(float64)
		msg, _ := body["message"].(string)
		if int(code) != status || msg == "" {
			t.Fatalf("error body %s, want {code: %d, message}", rec.Body.String(), status)
		}
		for k := range body {
			if k != "code" && k != "message" && k != "errors" {
				t.Fatalf("error body has extra field %q: %s", k, rec.Body.String())
			}
		}
		for _, m := range mention {
			if !strings.Contains(msg, m) {
				t.Fatalf("message %q does not mention %q", msg, m)
			}
		}
	}
	return body
}

var timestampRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

// newHandler mounts s on a ServeMux as a server does: huma with Sety's
// configuration, its operations, and JSON 404/405 for unmatched requests.
func newHandler(s *sety.Sety) (http.Handler, huma.API) {
	mux := http.NewServeMux()
	api := humago.New(mux, sety.NewAPIConfig())
	if err := s.Register(api); err != nil {
		panic(err) // a test's own wiring
	}
	mux.Handle("/", sety.RouteErrors(mux))
	return mux, api
}

// jsonLogger logs to w as JSON, for tests that read the logs.
func jsonLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/syncbuf"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
)

// No test leaves a goroutine of Sety's behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type fixture struct {
	s        *sety.Sety
	mux      *http.ServeMux
	org      string
	sessions *Sessions
}

func newFixture(t *testing.T, opts ...sety.Option) *fixture {
	t.Helper()
	sessions := NewSessions()
	s, err := sety.New(memory.New(), append(SetyOptions(sessions, nil), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	org, err := s.Auth.CreateOrganization(context.Background(), "Acme Rides", auth.Growth)
	if err != nil {
		t.Fatal(err)
	}
	sessions.Add("dispatcher", Account{Name: "Ada", OrgID: org.ID, Env: auth.Live, Scopes: []auth.Scope{auth.All}})
	sessions.Add("reader", Account{Name: "Bo", OrgID: org.ID, Env: auth.Live, Scopes: []auth.Scope{auth.IncidentsRead}})
	sessions.Add("rider", Account{Name: "Cy", OrgID: org.ID, Env: auth.Live})
	mux, _, err := NewService(s)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{s: s, mux: mux, org: org.ID, sessions: sessions}
}

func (f *fixture) do(method, path, session, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if session != "" {
		req.Header.Set(SessionHeader, session)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	f.mux.ServeHTTP(rec, req)
	return rec
}

func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, message string) {
	t.Helper()
	var body struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if rec.Code != status || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Code != status || !strings.Contains(body.Message, message) {
		t.Fatalf("got %d %s, want %d {code, message} saying %q", rec.Code, rec.Body.String(), status, message)
	}
}

// Without the prefix, each name the host shares with Sety is an error that
// names the clash and the option that avoids it; the host's API is left as
// it was, and nothing panics.
func TestRegisterReportsClashesAndLeavesTheHostAlone(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  []sety.Option
		host  func(*http.ServeMux)
		wants []string
	}{
		{"operation id", nil, nil, []string{"operation id list-incidents", "WithNamePrefix"}},
		{"schema", nil, nil, []string{"schema Location", "main.Location", "incident.Location", "WithNamePrefix"}},
		{"health route", []sety.Option{sety.WithNamePrefix("Safety"), sety.WithHealthAlias("/health")}, nil,
			[]string{"route GET /health", `WithHealthAlias("/health")`}},
		{"route in the base path", []sety.Option{sety.WithNamePrefix("Safety")},
			func(mux *http.ServeMux) {
				mux.HandleFunc("GET /safety/v1/incidents", func(http.ResponseWriter, *http.Request) {})
			},
			[]string{"route GET /safety/v1/incidents", "WithBasePath"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sessions := NewSessions()
			opts := []sety.Option{sety.WithBasePath("/safety/v1"), sety.WithAuthenticator(sessions.Authenticate, "acmeSession")}
			s, err := sety.New(memory.New(), append(opts, tc.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			mux, api := NewHostAPI()
			if tc.name == "schema" {
				delete(api.OpenAPI().Paths, "/support/incidents") // leave only the schema to clash
			}
			if tc.host != nil {
				tc.host(mux)
			}
			before, _ := json.Marshal(api.OpenAPI())
			err = s.Register(api)
			if err == nil {
				t.Fatal("Register accepted a clash")
			}
			for _, want := range tc.wants {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if after, _ := json.Marshal(api.OpenAPI()); !bytes.Equal(before, after) {
				t.Error("a failed Register changed the host's document")
			}
			if tc.host != nil {
				return // found by the router: the routes added before it stay (Register's doc says so)
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/safety/v1/health", nil))
			if rec.Code != http.StatusNotFound {
				t.Errorf("a failed Register routed Sety's health check: %d", rec.Code)
			}
		})
	}
}

// With the prefix, both APIs live side by side: the host's Location,
// list-incidents and /health, Sety's SafetyLocation, safety-list-incidents
// and its health under its base path.
func TestHostAndSetyShareOneDocument(t *testing.T) {
	f := newFixture(t)
	_, api, err := NewService(f.s) // a second host of the same Sety: Register is per API
	if err != nil {
		t.Fatal(err)
	}
	doc := api.OpenAPI()
	schemas := doc.Components.Schemas.Map()
	for _, name := range []string{"Location", "Trip", "SafetyLocation", "SafetyIncident", "SafetyError"} {
		if schemas[name] == nil {
			t.Errorf("schema %s missing", name)
		}
	}
	if schemas["Incident"] != nil {
		t.Error("a Sety schema without the prefix")
	}
	if op := doc.Paths["/support/incidents"].Get; op.OperationID != "list-incidents" {
		t.Errorf("host operation renamed: %s", op.OperationID)
	}
	op := doc.Paths["/safety/v1/incidents"].Get
	if op.OperationID != "safety-list-incidents" {
		t.Errorf("Sety's list-incidents: %s", op.OperationID)
	}
	if len(op.Security) != 1 || op.Security[0]["acmeSession"] == nil {
		t.Errorf("Sety's operations state %v, want the host's acmeSession", op.Security)
	}
	if _, ok := doc.Components.SecuritySchemes["bearerAuth"]; ok {
		t.Error("Sety's API-key scheme added although the host authenticates")
	}
	if rec := f.do(http.MethodGet, "/health", "", ""); rec.Body.String() != "acme ok\n" {
		t.Errorf("host /health: %q", rec.Body.String())
	}
	if rec := f.do(http.MethodGet, "/support/incidents", "", ""); !strings.Contains(rec.Body.String(), "tkt_1") {
		t.Errorf("host list-incidents: %d %s", rec.Code, rec.Body.String())
	}
	if rec := f.do(http.MethodGet, "/safety/v1/health", "", ""); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"api_version":"v1"`) {
		t.Errorf("Sety health: %d %s", rec.Code, rec.Body.String())
	}
}

// The host's sessions authenticate Sety's operations: errors in Sety's
// shape, scopes and rate limits per principal as with keys.
func TestHostSessionsAuthenticateSety(t *testing.T) {
	f := newFixture(t)
	create := `{"category":"sos","location":{"coordinates":[3.3792,6.5244]}}`
	rec := f.do(http.MethodPost, "/safety/v1/incidents", "dispatcher", create)
	if rec.Code != http.StatusCreated || rec.Header().Get("X-RateLimit-Limit") != "300" {
		t.Fatalf("create with a host session: %d %v %s", rec.Code, rec.Header(), rec.Body.String())
	}
	if rec := f.do(http.MethodGet, "/safety/v1/incidents", "reader", ""); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"total":1`) {
		t.Fatalf("list with a reader's session: %d %s", rec.Code, rec.Body.String())
	}
	wantError(t, f.do(http.MethodGet, "/safety/v1/incidents", "", ""), http.StatusUnauthorized, "send your Acme session in the X-Acme-Session header")
	wantError(t, f.do(http.MethodGet, "/safety/v1/incidents", "stolen", ""), http.StatusUnauthorized, "the Acme session has ended")
	wantError(t, f.do(http.MethodGet, "/safety/v1/incidents", "rider", ""), http.StatusForbidden, "may not use the safety API")
	wantError(t, f.do(http.MethodPost, "/safety/v1/incidents", "reader", create), http.StatusForbidden, "lacks scope incidents:write")
	// An API key means nothing here: the host authenticates.
	_, key, err := f.s.Auth.IssueKey(context.Background(), auth.Tenant{OrgID: f.org, Env: auth.Live},
		auth.KeySpec{Name: "k", Scopes: []auth.Scope{auth.All}})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/safety/v1/incidents", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	w := httptest.NewRecorder()
	f.mux.ServeHTTP(w, req)
	wantError(t, w, http.StatusUnauthorized, "X-Acme-Session")
	// A suspended organization is 402, as for keys.
	if _, err := f.s.Auth.SetOrganizationStatus(context.Background(), f.org, auth.Suspended); err != nil {
		t.Fatal(err)
	}
	wantError(t, f.do(http.MethodGet, "/safety/v1/incidents", "dispatcher", ""), http.StatusPaymentRequired, "suspended")
	// A session naming an organization Sety does not know is the host's bug: 500, logged.
	f.sessions.Add("orphan", Account{Name: "Orphan", OrgID: "org_0000000000000000", Env: auth.Live, Scopes: []auth.Scope{auth.All}})
	wantError(t, f.do(http.MethodGet, "/safety/v1/incidents", "orphan", ""), http.StatusInternalServerError, "internal error")
}

// Plan limits count per organization and environment, whoever signs in.
func TestRateLimitPerPrincipal(t *testing.T) {
	f := newFixture(t)
	f.sessions.Add("starter", Account{Name: "S", OrgID: f.org, Env: auth.Test, Scopes: []auth.Scope{auth.All}})
	var last *httptest.ResponseRecorder
	for range 301 {
		last = f.do(http.MethodGet, "/safety/v1/incidents", "dispatcher", "")
	}
	wantError(t, last, http.StatusTooManyRequests, "300 requests per minute")
	if rec := f.do(http.MethodGet, "/safety/v1/incidents", "starter", ""); rec.Code != http.StatusOK {
		t.Fatalf("the test environment shares the live budget: %d", rec.Code)
	}
}

// Lifecycle: a nil logger discards, a typed-nil store is refused, Run
// twice is an error, Close is idempotent and leaves no goroutine.
func TestLifecycle(t *testing.T) {
	var nilStore *memory.Store
	if _, err := sety.New(nilStore); err == nil {
		t.Fatal("a typed-nil store accepted")
	}
	s, err := sety.New(memory.New(), sety.WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-s.Ready()
	if err := s.Run(ctx); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("second Run: %v", err)
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if err := s.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := <-done; err != nil {
		t.Fatalf("Run after Close: %v", err)
	}
	goleak.VerifyNone(t)
	if err := s.Follow(ctx, 0, outbox.Filter{}, nil); !errors.Is(err, sety.ErrClosed) {
		t.Fatalf("Follow after Close: %v", err)
	}
	s2, _ := sety.New(memory.New())
	_ = s2.Close()
	if err := s2.Run(ctx); !errors.Is(err, sety.ErrClosed) {
		t.Fatalf("Run after Close: %v", err)
	}
}

func newJSONLogger(w *syncbuf.Buffer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

// A hundred quick starts and stops log no ERROR.
func TestCleanShutdownLogsNoError(t *testing.T) {
	logs := &syncbuf.Buffer{}
	for i := range 100 {
		sessions := NewSessions()
		s, err := sety.New(memory.New(), SetyOptions(sessions, newJSONLogger(logs))...)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		if i%2 == 1 {
			<-s.Ready() // stop a running Sety; the others stop while loading
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Fatalf("a clean shutdown logged an error:\n%s", logs.String())
	}
}

// Go calls are validated like HTTP ones, naming Go fields; a host's own
// responder ids need no mapping; a cancelled context is refused on memory
// as on SQLite.
func TestGoCallsAreValidated(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	req := incident.CreateIncidentRequest{Category: incident.SOS, Location: incident.Location{Coordinates: geo.NewPoint(6.5244, 3.3792)}}
	for _, tc := range []struct {
		tenant auth.Tenant
		req    incident.CreateIncidentRequest
		field  string
	}{
		{auth.Tenant{OrgID: f.org, Env: "prod"}, req, "tenant.Env"},
		{auth.Tenant{}, req, "tenant.OrgID"},
		{auth.Tenant{OrgID: f.org, Env: auth.Live}, incident.CreateIncidentRequest{Category: incident.SOS}, "location.coordinates"},
	} {
		_, _, err := f.s.Incidents.Create(ctx, tc.tenant, tc.req)
		var e *setyerr.Error
		if !errors.As(err, &e) || e.Kind != setyerr.Invalid || e.Field != tc.field {
			t.Errorf("Create(%+v): %v, want Invalid naming %s", tc.tenant, err, tc.field)
		}
	}
	live := auth.Tenant{OrgID: f.org, Env: auth.Live}
	if _, err := f.s.Incidents.UpsertResponder(ctx, live, "driver-8841", incident.ResponderInput{Name: "Emeka", Location: geo.NewPoint(6.5250, 3.3792)}); err != nil {
		t.Fatalf("a host's driver id: %v", err)
	}
	inc, _, err := f.s.Incidents.Create(ctx, live, req)
	if err != nil || inc.Responder == nil || inc.Responder.ResponderID != "driver-8841" {
		t.Fatalf("dispatch to the host's driver: %v %+v", err, inc)
	}
	for _, bad := range []string{"", "-x", "driver/8841", strings.Repeat("d", 65), "drïver"} {
		if _, err := f.s.Incidents.UpsertResponder(ctx, live, bad, incident.ResponderInput{Name: "X", Location: geo.NewPoint(1, 1)}); !setyerr.Is(err, setyerr.Invalid) {
			t.Errorf("responder id %q: %v", bad, err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := f.s.Incidents.Create(cancelled, live, req); !errors.Is(err, context.Canceled) {
		t.Errorf("Create with a cancelled context: %v", err)
	}
}

// The host subscribes after New, decodes payloads with the typed helper,
// and consumes the event log with its own cursor across a restart.
func TestHostConsumesEvents(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var heard []string
	var mu sync.Mutex
	unsubscribe := f.s.Subscribe(sety.NotifyFunc(func(_ context.Context, events []outbox.Event) {
		mu.Lock()
		defer mu.Unlock()
		for _, ev := range events {
			inc, err := incident.EventPayload(ev)
			if err != nil {
				t.Error(err)
				return
			}
			heard = append(heard, ev.Type+" "+string(inc.Status)+" "+inc.OrgID)
		}
	}))
	live := auth.Tenant{OrgID: f.org, Env: auth.Live}
	req := incident.CreateIncidentRequest{Category: incident.Medical, Location: incident.Location{Coordinates: geo.NewPoint(6.5244, 3.3792)}}
	first, _, err := f.s.Incidents.Create(ctx, live, req)
	if err != nil {
		t.Fatal(err)
	}
	unsubscribe()
	if _, _, err := f.s.Incidents.Create(ctx, live, req); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := strings.Join(heard, "; ")
	mu.Unlock()
	if want := "incident.created created " + f.org; !strings.HasPrefix(got, want) || strings.Count(got, "incident.created") != 1 {
		t.Fatalf("heard %q, want one create starting %q", got, want)
	}

	// The durable consumer: its cursor survives a restart of the reader.
	var cursor int64
	var seen []string
	readAll := func() {
		ctx, cancel := context.WithCancel(ctx)
		err := f.s.Follow(ctx, cursor, outbox.Filter{TypePrefix: "incident.created"}, func(_ context.Context, events []outbox.Event, next int64) error {
			for _, ev := range events {
				seen = append(seen, ev.SubjectID)
			}
			cursor = next
			if head, _, _ := f.s.Events(ctx, next, outbox.Filter{}, 1); len(head) == 0 {
				cancel() // caught up
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	readAll()
	if len(seen) != 2 || seen[0] != first.ID {
		t.Fatalf("first read: %v", seen)
	}
	third, _, err := f.s.Incidents.Create(ctx, live, req)
	if err != nil {
		t.Fatal(err)
	}
	readAll()
	if len(seen) != 3 || seen[2] != third.ID {
		t.Fatalf("after a restart from the cursor: %v", seen)
	}
	if _, err := incident.EventPayload(outbox.Event{Type: "access.checked_in"}); !setyerr.Is(err, setyerr.Invalid) {
		t.Fatalf("an access event decoded as an incident: %v", err)
	}
}

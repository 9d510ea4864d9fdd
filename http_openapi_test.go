package sety_test

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/webhook"
)

var update = flag.Bool("update", false, "rewrite testdata/openapi.json from the served document")

// The served OpenAPI document is the contract: any change to it shows up
// here and must be accepted with -update (and reviewed in the diff).
func TestOpenAPIGolden(t *testing.T) {
	t.Parallel()
	h := newMemoryHarness(t)
	rec := h.serve(httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d", rec.Code)
	}
	var doc any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	got, _ := json.MarshalIndent(doc, "", "  ")
	got = append(got, '\n')
	golden := filepath.Join("testdata", "openapi.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test . -run OpenAPIGolden -update)", err)
	}
	if string(got) != string(want) {
		t.Fatalf("the served OpenAPI document differs from %s; if the change is intended, run\n\tgo test . -run OpenAPIGolden -update", golden)
	}
}

// Every operation is documented: id, summary, description, tag, the 500
// it may answer and, unless it is public, the bearer scheme.
func TestOpenAPIDocumentsEveryOperation(t *testing.T) {
	t.Parallel()
	h := newMemoryHarness(t)
	count := 0
	for path, item := range h.api.OpenAPI().Paths {
		for _, op := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
			if op == nil {
				continue
			}
			count++
			if op.Summary == "" || op.Description == "" || len(op.Tags) == 0 || op.OperationID == "" {
				t.Errorf("%s %s: summary %q, description %q, tags %v", op.OperationID, path, op.Summary, op.Description, op.Tags)
			}
			if _, ok := op.Responses["500"]; !ok {
				t.Errorf("%s documents no 500", op.OperationID)
			}
			if _, public := op.Responses["401"]; !public && len(op.Security) > 0 || public && len(op.Security) == 0 {
				t.Errorf("%s: security %v does not match its 401 response", op.OperationID, op.Security)
			}
		}
	}
	if count < 7 {
		t.Fatalf("%d operations documented, want at least 7", count)
	}
}

// The document is one whatever the server enables: the operations console
// is documented (answering 404 unless enabled) and rate limits are too.
func TestOpenAPIDocumentIsOneWhateverTheOptions(t *testing.T) {
	t.Parallel()
	document := func(opts ...sety.Option) string {
		s, err := sety.New(memory.New(), opts...)
		if err != nil {
			t.Fatal(err)
		}
		_, api := newHandler(s)
		b, err := json.Marshal(api.OpenAPI())
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	plain := document()
	if document(sety.WithOperationsConsole()) != plain || document(sety.WithRateLimiter(nil), sety.WithOperationsConsole()) != plain {
		t.Fatal("the document depends on the server's options")
	}
	if !strings.Contains(plain, `"/v1/external/responders"`) {
		t.Fatal("the console's operations are not documented")
	}
}

// Without the console, its operations answer 404 (as documented), before
// any key is checked.
func TestConsoleOperationsAnswer404UnlessEnabled(t *testing.T) {
	t.Parallel()
	h := newMemoryHarness(t)
	s, err := sety.New(memory.New(), sety.WithClock(h.clock.Now), sety.WithRateLimiter(nil))
	if err != nil {
		t.Fatal(err)
	}
	h.sety = s
	h.mount(newHandler(s))
	_, live, _ := h.newOrg("No console")
	for _, key := range []string{live, ""} {
		wantStatus(t, h.do(http.MethodPut, "/responders/rsp_a1b2c3d4e5f6g7h8", key, `{"name":"Unit 1","location":[3.38,6.52]}`), http.StatusNotFound, "operations console")
		wantStatus(t, h.do(http.MethodGet, "/responders", key, nil), http.StatusNotFound, "operations console")
		wantStatus(t, h.do(http.MethodPost, "/incidents/inc_a1b2c3d4e5f6g7h8/status", key, `{"status":"responding"}`), http.StatusNotFound, "operations console")
	}
	wantStatus(t, h.do(http.MethodGet, "/incidents", live, nil), http.StatusOK)
}

// Answers the contract has and the document once left out: each is
// checked against the document by the harness, so each must be documented.
func TestDocumentedAnswers(t *testing.T) {
	t.Parallel()
	h := newMemoryHarness(t)
	body := `{"category":"sos","location":{"coordinates":[3.3792,6.5244]},"idempotency_key":"ride-1"}`
	wantStatus(t, h.do(http.MethodPost, "/incidents", h.live, body), http.StatusCreated)
	if replay := wantStatus(t, h.do(http.MethodPost, "/incidents", h.live, body), http.StatusOK); replay["idempotent"] != true {
		t.Fatalf("replay %v", replay)
	}
	req := httptest.NewRequest(http.MethodPost, base+"/incidents", strings.NewReader("category=sos"))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Authorization", "Bearer "+h.live)
	wantStatus(t, h.serve(req), http.StatusUnsupportedMediaType, `Content-Type "text/plain" is not supported: send Content-Type: application/json`)
	long := strings.Repeat("a", 65)
	for _, path := range []string{"/incidents/inc_" + long, "/access-codes/acc_" + long, "/webhooks/we_" + long} {
		wantStatus(t, h.do(http.MethodGet, path, h.live, nil), http.StatusBadRequest, "expected length")
	}
	wantStatus(t, h.do(http.MethodDelete, "/api-keys/key_"+long, h.live, nil), http.StatusBadRequest, "keyId")
	unauthorized := h.do(http.MethodGet, "/incidents", "", nil)
	wantStatus(t, unauthorized, http.StatusUnauthorized)
	if unauthorized.Header().Get("WWW-Authenticate") == "" {
		t.Fatal("401 without WWW-Authenticate")
	}
}

// The response check itself fails on what drift looks like: a status the
// document does not list, a required header missing, a null it does not
// allow.
func TestResponseCheckCatchesDrift(t *testing.T) {
	t.Parallel()
	h := newMemoryHarness(t)
	respond := func(method, path string, status int, header http.Header, body string) error {
		rec := httptest.NewRecorder()
		maps.Copy(rec.Header(), header)
		rec.Header().Set("Content-Type", "application/json")
		rec.WriteHeader(status)
		rec.Body.WriteString(body)
		return h.doc.check(httptest.NewRequest(method, base+path, nil), rec)
	}
	inc := create(t, h, h.live, sos)
	good, _ := json.Marshal(map[string]any{"incident": inc})
	if err := respond(http.MethodGet, "/incidents/inc_a1b2c3d4e5f6g7h8", 200, nil, string(good)); err != nil {
		t.Fatalf("a real answer fails the check: %v", err)
	}
	for _, tt := range []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
	}{
		{"undocumented status", http.MethodGet, "/incidents/inc_a1b2c3d4e5f6g7h8", http.StatusTeapot, nil, `{"code":418,"message":"teapot"}`},
		{"undocumented success", http.MethodPost, "/incidents/inc_a1b2c3d4e5f6g7h8/cancel", http.StatusCreated, nil, string(good)},
		{"429 without Retry-After", http.MethodGet, "/incidents", http.StatusTooManyRequests, nil, `{"code":429,"message":"slow down"}`},
		{"null incident", http.MethodGet, "/incidents/inc_a1b2c3d4e5f6g7h8", 200, nil, `{"incident":null}`},
		{"wrong error shape", http.MethodGet, "/incidents/inc_a1b2c3d4e5f6g7h8", 404, nil, `{"error":"not found"}`},
		{"answer on an undocumented route", http.MethodGet, "/nowhere", 200, nil, `{}`},
	} {
		if err := respond(tt.method, tt.path, tt.status, tt.header, tt.body); err == nil {
			t.Errorf("%s: the check passes it", tt.name)
		}
	}
}

// Health is public in the document (security: []) while the API key is the
// default of every other operation.
func TestOpenAPISecurity(t *testing.T) {
	t.Parallel()
	h := newMemoryHarness(t)
	oapi := h.api.OpenAPI()
	if len(oapi.Security) != 1 || oapi.Security[0]["bearerAuth"] == nil || len(oapi.Servers) == 0 {
		t.Fatalf("global security %v, servers %v", oapi.Security, oapi.Servers)
	}
	for path, item := range oapi.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
			if op == nil {
				continue
			}
			public := strings.HasSuffix(path, "/health")
			if public && (op.Security == nil || len(op.Security) != 0) || !public && len(op.Security) != 1 {
				t.Errorf("%s: security %v", op.OperationID, op.Security)
			}
		}
	}
	tagged := map[string]bool{}
	for _, tag := range oapi.Tags {
		tagged[tag.Name] = tag.Description != ""
	}
	for _, item := range oapi.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
			if op != nil && !tagged[op.Tags[0]] {
				t.Errorf("%s: tag %q is not described", op.OperationID, op.Tags[0])
			}
		}
	}
}

// Every event type is a webhook of the document, and what endpoints really
// receive, of every kind, fits it.
func TestWebhooksAreDocumented(t *testing.T) {
	t.Parallel()
	h := newMemoryHarness(t)
	for _, typ := range webhook.EventTypes {
		item := h.doc.doc.Webhooks[typ]
		if item == nil || item.Post == nil || item.Post.RequestBody == nil {
			t.Fatalf("no webhook %s", typ)
		}
		headers := map[string]bool{}
		for _, p := range item.Post.Parameters {
			headers[p.Value.Name] = p.Value.In == "header" && p.Value.Required
		}
		if !headers[webhook.HeaderID] || !headers[webhook.HeaderTimestamp] || !headers[webhook.HeaderSignature] {
			t.Errorf("%s: signature headers %v", typ, headers)
		}
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var ev struct{ Type string }
		_ = json.Unmarshal(b, &ev)
		mu.Lock()
		seen[ev.Type] = true
		mu.Unlock()
		if err := h.doc.checkDelivery(r, b); err != nil {
			t.Errorf("delivery of %s does not fit the document: %v\n%s", ev.Type, err, b)
		}
	}))
	defer receiver.Close()
	ep := wantStatus(t, h.do(http.MethodPost, "/webhooks", h.live, `{"url":"`+receiver.URL+`","events":["*"]}`), http.StatusCreated)
	endpoint := ep["endpoint"].(map[string]any)["endpoint_id"].(string)
	inc := create(t, h, h.live, sos)["incident_id"].(string)
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+inc+"/notes", h.live, `{"message":"caller is safe"}`), http.StatusCreated)
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+inc+"/cancel", h.live, `{"reason_code":"false_alarm"}`), http.StatusOK)
	code := wantStatus(t, h.do(http.MethodPost, "/access-codes", h.live, `{"site":"gate-a","visitor":{"name":"Tolu"}}`), http.StatusCreated)
	wantStatus(t, h.do(http.MethodPost, "/access-codes/validate", h.live, `{"code":"`+code["code"].(string)+`","site":"gate-a"}`), http.StatusOK)
	visit := wantStatus(t, h.do(http.MethodPost, "/access-logs", h.live, `{"site":"gate-a","visitor":{"name":"Ada"}}`), http.StatusCreated)
	wantStatus(t, h.do(http.MethodPatch, "/access-logs/"+visit["access_log"].(map[string]any)["log_id"].(string)+"/checkout", h.live, nil), http.StatusOK)
	wantStatus(t, h.do(http.MethodPost, "/access-codes/"+code["access_code"].(map[string]any)["code_id"].(string)+"/revoke", h.live, nil), http.StatusOK)
	wantStatus(t, h.do(http.MethodPost, "/webhooks/"+endpoint+"/test", h.live, nil), http.StatusAccepted)
	if _, err := h.sety.Webhooks.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"incident.created", "incident.note_added", "incident.cancelled", "access.checked_in", "access.checked_out", "access.code_revoked", "ping"} {
		if !seen[typ] {
			t.Errorf("no %s delivery reached the receiver (got %v)", typ, seen)
		}
	}
}

// oapi-codegen names an operation's wrappers <OperationId>Response,
// <OperationId>Params and <OperationId>JSONRequestBody: no schema may be
// named so, or the generated Go client does not compile.
func TestOperationIDsLeaveSchemaNamesFree(t *testing.T) {
	t.Parallel()
	h := newMemoryHarness(t)
	oapi := h.api.OpenAPI()
	schemas := oapi.Components.Schemas.Map()
	for _, item := range oapi.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
			if op == nil {
				continue
			}
			name := ""
			for part := range strings.SplitSeq(op.OperationID, "-") {
				name += strings.ToUpper(part[:1]) + part[1:]
			}
			for _, suffix := range []string{"Response", "Params", "JSONBody", "JSONRequestBody"} {
				if _, clash := schemas[name+suffix]; clash {
					t.Errorf("operation %s clashes with schema %s%s", op.OperationID, name, suffix)
				}
			}
		}
	}
}

// Every property of every schema and every parameter says what it is, for
// a reader of the document (and of the clients generated from it).
func TestOpenAPIDescribesEveryField(t *testing.T) {
	t.Parallel()
	h := newMemoryHarness(t)
	for name, s := range h.api.OpenAPI().Components.Schemas.Map() {
		for prop, ps := range s.Properties {
			if ps.Description == "" {
				t.Errorf("%s.%s has no description", name, prop)
			}
		}
	}
	for path, item := range h.doc.doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, p := range op.Parameters {
				if p.Value.Description == "" {
					t.Errorf("%s %s: parameter %s has no description", op.OperationID, path, p.Value.Name)
				}
			}
		}
	}
}

// huma's own error schemas are not in the document: every Sety error is
// the Error schema.
func TestOpenAPIHasNoUnusedErrorModel(t *testing.T) {
	t.Parallel()
	h := newMemoryHarness(t)
	for _, name := range []string{"ErrorModel", "ErrorDetail"} {
		if _, ok := h.api.OpenAPI().Components.Schemas.Map()[name]; ok {
			t.Errorf("the document has huma's %s", name)
		}
	}
}

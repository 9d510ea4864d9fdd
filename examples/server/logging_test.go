package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/golang/mock/gomock"

	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/adapters/mock"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/syncbuf"
)

func TestRequestLogs(t *testing.T) {
	s := newServer(t, memory.New())
	rec := s.serve(http.MethodPost, "/v1/external/incidents?trace=1", `{"category":"sos","location":{"coordinates":[3.3792,6.5244]}}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", rec.Code, rec.Body.String())
	}
	id := rec.Header().Get("X-Request-Id")
	logs := s.logs.String()
	for _, want := range []string{`"request_id":"` + id + `"`, `"method":"POST"`, `"path":"/v1/external/incidents"`, `"status":201`, `"duration":`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, s.key) || strings.Contains(logs, s.key[10:]) {
		t.Fatal("the API key reached the logs")
	}
}

// failingStore puts a mock incident store with real auth storage.
type failingStore struct {
	*memory.Store
	incidents incident.Store
}

func (f failingStore) IncidentStore() incident.Store { return f.incidents }

// The cause of a 500 is logged with the request's id, and never answered.
func TestInternalErrorsAreLoggedWithRequestID(t *testing.T) {
	ctrl := gomock.NewController(t)
	incidents := mock.NewIncidentStore(ctrl)
	incidents.EXPECT().GetIncident(gomock.Any(), gomock.Any(), gomock.Any()).Return(nil, errors.New(`near "SELEC": syntax error`))
	s := newServer(t, failingStore{Store: memory.New(), incidents: incidents})
	rec := s.serve(http.MethodGet, "/v1/external/incidents/inc_0000000000000001", "")
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "SELEC") {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
	logs, reqID := s.logs.String(), rec.Header().Get("X-Request-Id")
	if reqID == "" || !strings.Contains(logs, "syntax error") || !strings.Contains(logs, `"request_id":"`+reqID+`"`) {
		t.Fatalf("the cause is not logged with request id %q:\n%s", reqID, logs)
	}
}

func TestPanicsBecome500(t *testing.T) {
	logs := &syncbuf.Buffer{}
	handler := logRequests(newLogger(logs, "json"), recoverPanics(newLogger(logs, "json"), http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("nil map in /srv/secret.go")
	})))
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/boom", nil))
	var body map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if rec.Code != http.StatusInternalServerError || body["message"] != "internal error" || body["code"] != 500.0 || !strings.Contains(logs.String(), "secret.go") {
		t.Fatalf("%d %v; logs %s", rec.Code, body, logs.String())
	}
}

// Health probes that pass are logged below the default level; a failing
// one, and every other request, at INFO.
func TestHealthProbesAreLoggedAtDebug(t *testing.T) {
	s := newServer(t, memory.New())
	for _, path := range []string{"/health", "/v1/external/health"} {
		if rec := s.serve(http.MethodGet, path, ""); rec.Code != http.StatusOK {
			t.Fatalf("%s: %d", path, rec.Code)
		}
	}
	s.serve(http.MethodGet, "/v1/external/incidents", "")
	var probes, requests int
	for _, line := range strings.Split(strings.TrimSpace(s.logs.String()), "\n") {
		var rec struct{ Level, Msg, Path string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Msg != "request" {
			continue
		}
		switch {
		case strings.HasSuffix(rec.Path, "/health"):
			probes++
			t.Errorf("a passing probe was logged at %s: %s", rec.Level, line)
		case rec.Level == "INFO":
			requests++
		}
	}
	if probes != 0 || requests != 1 {
		t.Fatalf("%d probe lines, %d request lines at INFO; want 0 and 1:\n%s", probes, requests, s.logs.String())
	}
	// A probe that fails is worth a line.
	failing := newServer(t, failingPing{memory.New()})
	if rec := failing.serve(http.MethodGet, "/health", ""); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("failing health: %d", rec.Code)
	}
	if !strings.Contains(failing.logs.String(), `"level":"INFO","msg":"request","method":"GET","path":"/health","status":503`) {
		t.Fatalf("a failing probe is not logged at INFO:\n%s", failing.logs.String())
	}
}

// failingPing is storage whose health check fails.
type failingPing struct{ *memory.Store }

func (failingPing) Ping(context.Context) error { return errors.New("disk on fire") }

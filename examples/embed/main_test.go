package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2/humatest"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/outbox"
)

func setup(t *testing.T, opts ...sety.Option) (*sety.Sety, *http.ServeMux, humatest.TestAPI, string) {
	s, err := sety.New(memory.New(), append([]sety.Option{sety.WithBasePath("/safety/v1/external")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	key, err := testKey(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	mux, api, err := newService(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, mux, humatest.Wrap(t, api), key
}

// notifyFunc hears of committed events.
type notifyFunc func([]outbox.Event)

func (f notifyFunc) Notify(_ context.Context, events []outbox.Event) { f(events) }

// A drill created through the host's API is walked to resolved by the
// sandbox simulator, because the host runs Sety's background work.
func TestDrillReachesResolved(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC))
	resolved := make(chan string, 1)
	s, _, api, key := setup(t, sety.WithClock(clk.Now), sety.WithNotifier(notifyFunc(func(events []outbox.Event) {
		for _, ev := range events {
			if ev.Type == "incident.resolved" {
				resolved <- ev.SubjectID
			}
		}
	})))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	<-s.Ready()

	rec := api.Post("/safety/v1/external/incidents", "Authorization: Bearer "+key,
		map[string]any{"category": "sos", "location": map[string]any{"coordinates": []float64{3.3792, 6.5244}}})
	var created struct {
		Incident struct {
			ID string `json:"incident_id"`
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil || rec.Code != http.StatusCreated {
		t.Fatalf("create drill: %d %s", rec.Code, rec.Body.String())
	}
	clk.Advance(61 * time.Second) // past every step of the sandbox
	s.Incidents.Wake()
	select {
	case id := <-resolved:
		if id != created.Incident.ID {
			t.Fatalf("resolved %s, want %s", id, created.Incident.ID)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the drill was not resolved: is Run running the engine?")
	}
	rec = api.Get("/safety/v1/external/incidents/"+created.Incident.ID, "Authorization: Bearer "+key)
	if !strings.Contains(rec.Body.String(), `"status":"resolved"`) {
		t.Fatalf("drill after the simulation: %s", rec.Body.String())
	}
}

func TestHostAndSetyLiveSideBySide(t *testing.T) {
	_, mux, api, key := setup(t)

	// The host's operation works and keeps huma's own error format.
	if rec := api.Get("/rides/ride_1"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "in_progress") {
		t.Fatalf("host route: %d %s", rec.Code, rec.Body.String())
	}
	rec := api.Get("/rides/ride_2")
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), `"title":"Not Found"`) {
		t.Fatalf("host errors must stay huma's RFC 9457 shape: %s", rec.Body.String())
	}

	// Sety answers under its prefix, with its own error shape.
	rec = api.Post("/safety/v1/external/incidents", "Authorization: Bearer "+key,
		map[string]any{"category": "sos", "location": map[string]any{"coordinates": []float64{3.3792, 6.5244}}})
	if rec.Code != http.StatusCreated {
		t.Fatalf("create under the prefix: %d %s", rec.Code, rec.Body.String())
	}
	rec = api.Post("/safety/v1/external/incidents", "Authorization: Bearer "+key, map[string]any{"category": "fire"})
	var e map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &e)
	if rec.Code != http.StatusBadRequest || e["code"] != 400.0 || e["title"] != nil {
		t.Fatalf("Sety validation error: %d %s", rec.Code, rec.Body.String())
	}

	// Unknown paths under the prefix get Sety's JSON 404; the host's own
	// /health is untouched.
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/safety/v1/external/nope", nil))
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), `"code":404`) {
		t.Fatalf("unknown Sety path: %d %s", w.Code, w.Body.String())
	}
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/health", nil))
	if w.Body.String() != "host ok\n" {
		t.Fatalf("host /health replaced: %q", w.Body.String())
	}
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/safety/v1/external/health", nil))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"api_version":"v1"`) {
		t.Fatalf("Sety health under the prefix: %d %s", w.Code, w.Body.String())
	}
}

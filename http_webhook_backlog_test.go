package sety_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// An endpoint shows its tenant its backlog (pending_deliveries), read from
// the store, on every store: the metrics no longer name endpoints.
func TestWebhookBacklogOverHTTP(t *testing.T) {
	t.Parallel()
	for name, newH := range map[string]func(testing.TB) *harness{
		"Memory": newMemoryHarness, "SQLite": newSQLiteHarness, "PostgreSQL": newPostgresHarness,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testWebhookBacklogOverHTTP(t, newH(t))
		})
	}
}

func testWebhookBacklogOverHTTP(t *testing.T, h *harness) {
	var status atomic.Int32
	status.Store(http.StatusServiceUnavailable)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(int(status.Load())) }))
	defer receiver.Close()
	hook := `{"url":"` + receiver.URL + `","events":["incident.created","incident.cancelled"]}`
	created := wantStatus(t, h.do(http.MethodPost, "/webhooks", h.live, hook), http.StatusCreated)
	ep := created["endpoint"].(map[string]any)
	id := ep["endpoint_id"].(string)
	if ep["pending_deliveries"] != 0.0 {
		t.Fatalf("a new endpoint shows %v pending", ep["pending_deliveries"])
	}
	// Another organization's endpoint, and its own backlog of none.
	_, otherLive, _ := h.newOrg("Other Rides")
	other := wantStatus(t, h.do(http.MethodPost, "/webhooks", otherLive, hook), http.StatusCreated)["endpoint"].(map[string]any)["endpoint_id"].(string)

	inc := create(t, h, h.live, sos)["incident_id"].(string)
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+inc+"/cancel", h.live, nil), http.StatusOK)
	tick := func() {
		t.Helper()
		if _, err := h.sety.Webhooks.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	tick() // fans both events out; the first attempt fails, the second waits behind it
	pending := func(key, id string) any {
		t.Helper()
		return wantStatus(t, h.do(http.MethodGet, "/webhooks/"+id, key, nil), http.StatusOK)["endpoint"].(map[string]any)["pending_deliveries"]
	}
	if got := pending(h.live, id); got != 2.0 {
		t.Fatalf("pending_deliveries = %v after a failed attempt, want 2", got)
	}
	if got := pending(otherLive, other); got != 0.0 {
		t.Fatalf("the other organization's endpoint shows %v pending, want 0 (its tenant made nothing)", got)
	}
	list := wantStatus(t, h.do(http.MethodGet, "/webhooks", h.live, nil), http.StatusOK)["data"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["pending_deliveries"] != 2.0 {
		t.Fatalf("list: %v", list)
	}
	patched := wantStatus(t, h.do(http.MethodPatch, "/webhooks/"+id, h.live, `{"description":"ops"}`), http.StatusOK)
	if patched["endpoint"].(map[string]any)["pending_deliveries"] != 2.0 {
		t.Fatalf("update answered %v", patched)
	}
	rotated := wantStatus(t, h.do(http.MethodPost, "/webhooks/"+id+"/rotate-secret", h.live, nil), http.StatusOK)
	if rotated["endpoint"].(map[string]any)["pending_deliveries"] != 2.0 {
		t.Fatalf("rotation answered %v", rotated)
	}
	// Another tenant cannot read it, backlog or not.
	wantStatus(t, h.do(http.MethodGet, "/webhooks/"+id, otherLive, nil), http.StatusNotFound)
	wantStatus(t, h.do(http.MethodGet, "/webhooks/"+id, h.test, nil), http.StatusNotFound)

	// The endpoint recovers: the backlog drains to 0.
	status.Store(http.StatusNoContent)
	for range 2 {
		h.clock.Advance(10 * time.Second) // past the first retry's 5 s
		tick()
	}
	if got := pending(h.live, id); got != 0.0 {
		t.Fatalf("pending_deliveries = %v once delivered, want 0", got)
	}
}

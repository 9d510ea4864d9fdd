package sety_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sety-io/sety/webhook"
)

// Deliveries past the retention leave the delivery log: the list, its
// total, and a retry of one all say they are gone; a recent one stays.
func TestPurgedDeliveriesLeaveTheLogOverHTTP(t *testing.T) {
	t.Parallel()
	for name, newH := range map[string]func(testing.TB) *harness{"memory": newMemoryHarness, "sqlite": newSQLiteHarness, "postgres": newPostgresHarness} {
		t.Run(name, func(t *testing.T) {
			h := newH(t)
			receiver := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			defer receiver.Close()
			ep := wantStatus(t, h.do(http.MethodPost, "/webhooks", h.live, `{"url":"`+receiver.URL+`","events":["incident.created"]}`), http.StatusCreated)
			id := ep["endpoint"].(map[string]any)["endpoint_id"].(string)
			create(t, h, h.live, sos)
			if _, err := h.sety.Webhooks.Tick(context.Background()); err != nil {
				t.Fatal(err)
			}
			list := wantStatus(t, h.do(http.MethodGet, "/webhooks/"+id+"/deliveries", h.live, nil), http.StatusOK)
			data := list["data"].([]any)
			if len(data) != 1 || data[0].(map[string]any)["status"] != webhook.Succeeded {
				t.Fatalf("before the purge: %v", list)
			}
			old := data[0].(map[string]any)["delivery_id"].(string)

			h.clock.Advance(webhook.DefaultRetention + time.Hour)
			create(t, h, h.live, sos)
			if _, err := h.sety.Webhooks.Tick(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, err := h.sety.Webhooks.Purge(context.Background()); err != nil {
				t.Fatal(err)
			}
			list = wantStatus(t, h.do(http.MethodGet, "/webhooks/"+id+"/deliveries", h.live, nil), http.StatusOK)
			data = list["data"].([]any)
			if len(data) != 1 || data[0].(map[string]any)["delivery_id"] == old ||
				list["pagination"].(map[string]any)["total"] != 1.0 {
				t.Fatalf("after the purge: %v, want only the new incident's delivery", list)
			}
			wantStatus(t, h.do(http.MethodPost, "/webhooks/"+id+"/deliveries/"+old+"/retry", h.live, nil), http.StatusNotFound)
		})
	}
}

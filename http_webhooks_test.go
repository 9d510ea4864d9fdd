package sety_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/webhook"
)

func TestWebhookEndpointsOverHTTP(t *testing.T) { testWebhookEndpointsOverHTTP(t, newMemoryHarness(t)) }

func testWebhookEndpointsOverHTTP(t *testing.T, h *harness) {
	var mu sync.Mutex
	var got []*http.Request
	var bodies [][]byte
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, b)
		mu.Unlock()
	}))
	defer receiver.Close()

	body := wantStatus(t, h.do(http.MethodPost, "/webhooks", h.live, `{"url":"`+receiver.URL+`","events":["incident.created","incident.cancelled"],"description":"ops"}`), http.StatusCreated)
	secret := body["secret"].(string)
	ep := body["endpoint"].(map[string]any)
	id := ep["endpoint_id"].(string)
	if !strings.HasPrefix(secret, "whsec_") || ep["status"] != "enabled" || ep["disabled_reason"] != nil || ep["secret"] != nil {
		t.Fatalf("created %v", body)
	}
	// The secret is never shown again.
	one := wantStatus(t, h.do(http.MethodGet, "/webhooks/"+id, h.live, nil), http.StatusOK)
	if strings.Contains(h.do(http.MethodGet, "/webhooks", h.live, nil).Body.String(), secret) || one["secret"] != nil {
		t.Fatal("the secret leaked into a read")
	}

	// An incident created then cancelled reaches the receiver, verifiably.
	inc := create(t, h, h.live, sos)["incident_id"].(string)
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+inc+"/cancel", h.live, nil), http.StatusOK)
	if _, err := h.sety.Webhooks.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d deliveries reached the receiver, want 2", len(got))
	}
	for i, r := range got {
		if err := webhook.Verify(secret, r.Header, bodies[i], h.clock.Now(), webhook.DefaultTolerance); err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
		if err := h.doc.checkDelivery(r, bodies[i]); err != nil {
			t.Errorf("delivery %d does not match the document's webhooks: %v\n%s", i, err, bodies[i])
		}
	}
	list := wantStatus(t, h.do(http.MethodGet, "/webhooks/"+id+"/deliveries?status=succeeded", h.live, nil), http.StatusOK)
	deliveries := list["data"].([]any)
	types := map[any]bool{}
	for _, d := range deliveries {
		types[d.(map[string]any)["event_type"]] = true
	}
	if len(deliveries) != 2 || !types["incident.created"] || !types["incident.cancelled"] {
		t.Fatalf("deliveries %v", list)
	}
	deliveryID := deliveries[0].(map[string]any)["delivery_id"].(string)

	// Redeliver, ping, rotate, update, delete.
	re := wantStatus(t, h.do(http.MethodPost, "/webhooks/"+id+"/deliveries/"+deliveryID+"/retry", h.live, nil), http.StatusAccepted)
	if re["delivery"].(map[string]any)["status"] != "pending" {
		t.Fatalf("redelivery %v", re)
	}
	ping := wantStatus(t, h.do(http.MethodPost, "/webhooks/"+id+"/test", h.live, nil), http.StatusAccepted)
	if ping["delivery"].(map[string]any)["event_type"] != "ping" {
		t.Fatalf("ping %v", ping)
	}
	rot := wantStatus(t, h.do(http.MethodPost, "/webhooks/"+id+"/rotate-secret", h.live, nil), http.StatusOK)
	if s, _ := rot["secret"].(string); s == secret || !strings.HasPrefix(s, "whsec_") {
		t.Fatalf("rotation %v", rot)
	}
	up := wantStatus(t, h.do(http.MethodPatch, "/webhooks/"+id, h.live, `{"events":["incident.*"],"status":"disabled"}`), http.StatusOK)
	if e := up["endpoint"].(map[string]any); e["status"] != "disabled" || len(e["events"].([]any)) != 1 || e["url"] != receiver.URL {
		t.Fatalf("update %v", up)
	}
	wantStatus(t, h.do(http.MethodPatch, "/webhooks/"+id, h.live, `{"url":"ftp://x"}`), http.StatusBadRequest, "url")
	wantStatus(t, h.do(http.MethodPatch, "/webhooks/"+id, h.live, `{"events":["nope"]}`), http.StatusBadRequest, "events")
	wantStatus(t, h.do(http.MethodPatch, "/webhooks/"+id, h.live, `{"status":"paused"}`), http.StatusBadRequest, "status")

	// While disabled, an event is recorded as skipped; enabling sends it.
	tick := func() {
		if _, err := h.sety.Webhooks.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	tick() // the redelivery and the ping wait: the endpoint is disabled
	mu.Lock()
	before := len(got)
	mu.Unlock()
	create(t, h, h.live, sos)
	tick()
	skipped := wantStatus(t, h.do(http.MethodGet, "/webhooks/"+id+"/deliveries?status=skipped", h.live, nil), http.StatusOK)["data"].([]any)
	skippedTypes := map[any]bool{}
	for _, d := range skipped {
		skippedTypes[d.(map[string]any)["event_type"]] = d.(map[string]any)["next_attempt_at"] == nil
	}
	if len(skipped) != 2 || !skippedTypes["incident.created"] || !skippedTypes["incident.dispatching"] {
		t.Fatalf("skipped deliveries %v, want the new incident's created and dispatching", skipped)
	}
	wantStatus(t, h.do(http.MethodPatch, "/webhooks/"+id, h.live, `{"status":"enabled"}`), http.StatusOK)
	tick()
	mu.Lock()
	sent := len(got) - before
	mu.Unlock()
	if sent != 4 { // the two skipped events, the redelivery and the ping
		t.Fatalf("%d requests after enabling, want 4", sent)
	}

	// Other tenants see nothing; scopes are enforced.
	for _, key := range []string{h.test, func() string { _, k, _ := h.newOrg("Other"); return k }()} {
		wantStatus(t, h.do(http.MethodGet, "/webhooks/"+id, key, nil), http.StatusNotFound)
		wantStatus(t, h.do(http.MethodPost, "/webhooks/"+id+"/test", key, nil), http.StatusNotFound)
		wantStatus(t, h.do(http.MethodGet, "/webhooks/"+id+"/deliveries", key, nil), http.StatusNotFound)
		wantStatus(t, h.do(http.MethodPost, "/webhooks/"+id+"/deliveries/"+deliveryID+"/retry", key, nil), http.StatusNotFound)
		wantStatus(t, h.do(http.MethodDelete, "/webhooks/"+id, key, nil), http.StatusNotFound)
	}
	readOnly := h.key(h.org, auth.Live, auth.WebhooksRead)
	wantStatus(t, h.do(http.MethodGet, "/webhooks", readOnly, nil), http.StatusOK)
	wantStatus(t, h.do(http.MethodPost, "/webhooks/"+id+"/rotate-secret", readOnly, nil), http.StatusForbidden, "webhooks:write")

	del := wantStatus(t, h.do(http.MethodDelete, "/webhooks/"+id, h.live, nil), http.StatusOK)
	if del["endpoint"].(map[string]any)["endpoint_id"] != id {
		t.Fatalf("delete %v", del)
	}
	wantStatus(t, h.do(http.MethodGet, "/webhooks/"+id, h.live, nil), http.StatusNotFound)
	wantStatus(t, h.do(http.MethodGet, "/webhooks/"+id+"/deliveries", h.live, nil), http.StatusNotFound)
}

func TestWebhookCreateValidation(t *testing.T) {
	t.Parallel()
	h := newMemoryHarness(t)
	for body, field := range map[string]string{
		`{"events":["*"]}`:                                   "url",
		`{"url":"https://example.com"}`:                      "events",
		`{"url":"https://example.com","events":[]}`:          "events",
		`{"url":"https://example.com","events":["fire"]}`:    "events",
		`{"url":"gopher://example.com","events":["*"]}`:      "url",
		`{"url":"https://example.com","events":["*"],"x":1}`: "x",
		// Hosts that do not normalize under IDNA's lookup profile.
		`{"url":"https://exa%C2%ADmple%E2%80%A8.com/h","events":["*"]}`: "url",
		`{"url":"https://a_b.example.com/h","events":["*"]}`:            "url",
		`{"url":"https://%E3%80%82/h","events":["*"]}`:                  "url",
	} {
		wantStatus(t, h.do(http.MethodPost, "/webhooks", h.live, body), http.StatusBadRequest, field)
	}
	// A Unicode host is stored in the form DNS is asked for, on create
	// and on update; one that does not normalize is refused on both.
	created := wantStatus(t, h.do(http.MethodPost, "/webhooks", h.live, `{"url":"https://ｅｘａｍｐｌｅ。com/h","events":["*"]}`), http.StatusCreated)
	ep := created["endpoint"].(map[string]any)
	if ep["url"] != "https://example.com/h" {
		t.Fatalf("stored %v", ep["url"])
	}
	path := "/webhooks/" + ep["endpoint_id"].(string)
	up := wantStatus(t, h.do(http.MethodPatch, path, h.live, `{"url":"https://Bücher.example/h"}`), http.StatusOK)
	if got := up["endpoint"].(map[string]any)["url"]; got != "https://xn--bcher-kva.example/h" {
		t.Fatalf("updated to %v", got)
	}
	wantStatus(t, h.do(http.MethodPatch, path, h.live, `{"url":"https://a_b.example.com/h"}`), http.StatusBadRequest, "url", "not a valid domain name")
}

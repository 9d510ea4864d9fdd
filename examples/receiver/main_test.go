package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sety-io/sety/webhook"
)

func TestReceiverVerifiesAndDedupes(t *testing.T) {
	secret := webhook.NewSecret()
	now := time.Date(2026, 3, 10, 14, 22, 5, 0, time.UTC)
	var out bytes.Buffer
	h := handler(secret, &out, func() time.Time { return now })
	body := []byte(`{"id":"evt_1","type":"incident.created","created_at":"2026-03-10T14:22:05.000Z","sequence":1,"data":{}}`)
	send := func(sig string) int {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("webhook-id", "evt_1")
		req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		req.Header.Set("webhook-signature", sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	good, _ := webhook.Sign(secret, "evt_1", now, body)
	forged, _ := webhook.Sign(webhook.NewSecret(), "evt_1", now, body)
	if code := send(forged); code != http.StatusUnauthorized {
		t.Fatalf("forged: %d", code)
	}
	first, again := send(good), send(good) // a retry of a delivery already handled
	if first != http.StatusNoContent || again != http.StatusNoContent {
		t.Fatalf("valid deliveries answered %d and %d", first, again)
	}
	if got := out.String(); strings.Count(got, "evt_1") != 1 || !strings.Contains(got, "incident.created sequence 1") {
		t.Fatalf("printed %q, want the event once", got)
	}
}

package sety_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/sety-io/sety/auth"
)

// BenchmarkWebhookBacklog measures reading an endpoint, which counts its
// pending deliveries (pending_deliveries), beside no backlog and beside a
// dead endpoint's 10,000 pending deliveries, on SQLite and PostgreSQL:
//
//	go test . -run '^$' -bench WebhookBacklog -benchtime 2000x
func BenchmarkWebhookBacklog(b *testing.B) {
	for _, store := range []struct {
		name string
		new  func(testing.TB) *harness
	}{{"sqlite", newSQLiteHarness}, {"postgres", newPostgresHarness}} {
		h := store.new(b)
		tenant := auth.Tenant{OrgID: h.org.ID, Env: auth.Live}
		ids := map[int]string{}
		for _, backlog := range []int{0, 10_000} {
			created := wantStatus(b, h.do(http.MethodPost, "/webhooks", h.live, `{"url":"https://example.com/hook","events":["*"]}`), http.StatusCreated)
			id := created["endpoint"].(map[string]any)["endpoint_id"].(string)
			for range backlog { // pings no worker sends: they stay pending
				if _, err := h.sety.Webhooks.Ping(context.Background(), tenant, id); err != nil {
					b.Fatal(err)
				}
			}
			ids[backlog] = id
		}
		for _, backlog := range []int{0, 10_000} {
			b.Run(store.name+"/get/backlog="+map[int]string{0: "0", 10_000: "10000"}[backlog], func(b *testing.B) {
				path := "/webhooks/" + ids[backlog]
				for b.Loop() {
					if rec := h.do(http.MethodGet, path, h.live, nil); rec.Code != http.StatusOK {
						b.Fatal(rec.Code)
					}
				}
			})
		}
		b.Run(store.name+"/list", func(b *testing.B) {
			for b.Loop() {
				if rec := h.do(http.MethodGet, "/webhooks", h.live, nil); rec.Code != http.StatusOK {
					b.Fatal(rec.Code)
				}
			}
		})
	}
}

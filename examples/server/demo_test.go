package main

import (
	"context"
	"log/slog"
	"net/http"
	"testing"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/incident"
)

// -demo loads the responder pool into the first organization's live and
// test environments, once.
func TestDemoPools(t *testing.T) {
	h := newSQLiteHarness(t)
	ctx := context.Background()
	for range 2 {
		if err := loadDemo(ctx, h.sety, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
	}
	for _, env := range []auth.Environment{auth.Live, auth.Test} {
		_, total, err := h.sety.Incidents.ListResponders(ctx, auth.Tenant{OrgID: h.org.ID, Env: env}, incident.ResponderFilter{Limit: 1})
		if err != nil || total != demoResponders {
			t.Errorf("%s pool: %d responders, %v", env, total, err)
		}
	}
	rec := h.do(http.MethodGet, "/responders?limit=100", h.test, nil)
	if body := wantStatus(t, rec, http.StatusOK); len(body["data"].([]any)) != demoResponders {
		t.Errorf("test key sees %d responders", len(body["data"].([]any)))
	}
}

package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/sqlite"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/incident"
)

// -demo loads the responder pool into the first organization's live and
// test environments, once.
func TestDemoPools(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sety.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h := newServer(t, db, sety.WithOperationsConsole())
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
	_, testKey, err := h.sety.Auth.IssueKey(ctx, auth.Tenant{OrgID: h.org.ID, Env: auth.Test}, auth.KeySpec{Name: "console", Scopes: []auth.Scope{auth.All}})
	if err != nil {
		t.Fatal(err)
	}
	rec := h.serveAs(testKey, http.MethodGet, "/v1/external/responders?limit=100", "")
	var body struct{ Data []any }
	if err := json.Unmarshal(rec.Body.Bytes(), &body); rec.Code != http.StatusOK || err != nil || len(body.Data) != demoResponders {
		t.Errorf("test key sees %d responders: %d %s", len(body.Data), rec.Code, rec.Body.String())
	}
}

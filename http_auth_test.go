package sety_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
)

func TestAuthentication(t *testing.T) {
	h := newMemoryHarness(t)
	ctx := context.Background()
	tenant := auth.Tenant{OrgID: h.org.ID, Env: auth.Live}
	revoked, revokedSecret, _ := h.sety.Auth.IssueKey(ctx, tenant, auth.KeySpec{Name: "old", Scopes: []auth.Scope{auth.All}})
	if _, err := h.sety.Auth.RevokeKey(ctx, tenant, revoked.ID); err != nil {
		t.Fatal(err)
	}
	_, expiring, _ := h.sety.Auth.IssueKey(ctx, tenant, auth.KeySpec{Name: "temp", Scopes: []auth.Scope{auth.All}, ExpiresAt: t0.Add(time.Hour)})
	wantStatus(t, h.do(http.MethodGet, "/incidents", expiring, nil), http.StatusOK)
	h.clock.Advance(time.Hour)

	for name, header := range map[string]string{
		"missing":      "",
		"not bearer":   "Basic " + h.live,
		"empty bearer": "Bearer ",
		"malformed":    "Bearer sety_live_xyz",
		"unknown":      "Bearer sety_live_00000000000000000000000000000000",
		"revoked":      "Bearer " + revokedSecret,
		"expired":      "Bearer " + expiring,
		"huge":         "Bearer " + strings.Repeat("a", 8000),
		"sql":          "Bearer ' OR '1'='1",
	} {
		t.Run(name, func(t *testing.T) {
			args := []any{}
			if header != "" {
				args = append(args, "Authorization: "+header)
			}
			rec := h.api.Get(base+"/incidents", args...)
			wantStatus(t, rec, http.StatusUnauthorized)
			if !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("WWW-Authenticate = %q", rec.Header().Get("WWW-Authenticate"))
			}
		})
	}
	// The scheme name is case-insensitive.
	wantStatus(t, h.api.Get(base+"/incidents", "Authorization: bearer "+h.live), http.StatusOK)
}

func TestScopesPerOperation(t *testing.T) {
	h := newMemoryHarness(t)
	id := create(t, h, h.live, sos)["incident_id"].(string)
	readOnly := h.key(h.org, auth.Live, auth.IncidentsRead)
	writeOnly := h.key(h.org, auth.Live, auth.IncidentsWrite)
	unrelated := h.key(h.org, auth.Live, auth.AccessRead, auth.ThreatRead)
	ops := []struct {
		method, path, body string
		scope              auth.Scope
		ok                 int
	}{
		{http.MethodPost, "/incidents", sos, auth.IncidentsWrite, 201},
		{http.MethodGet, "/incidents", "", auth.IncidentsRead, 200},
		{http.MethodGet, "/incidents/" + id, "", auth.IncidentsRead, 200},
		{http.MethodPost, "/incidents/" + id + "/notes", `{"message":"x"}`, auth.IncidentsWrite, 201},
		{http.MethodPost, "/incidents/" + id + "/cancel", "", auth.IncidentsWrite, 200},
	}
	for _, op := range ops {
		var body any
		if op.body != "" {
			body = op.body
		}
		for _, key := range []string{readOnly, writeOnly, unrelated} {
			allowed := (key == readOnly && op.scope == auth.IncidentsRead) || (key == writeOnly && op.scope == auth.IncidentsWrite)
			rec := h.do(op.method, op.path, key, body)
			if allowed {
				wantStatus(t, rec, op.ok)
			} else {
				wantStatus(t, rec, http.StatusForbidden, string(op.scope))
			}
		}
	}
}

func TestSuspendedOrganizationGets402(t *testing.T) {
	h := newMemoryHarness(t)
	if _, err := h.sety.Auth.SetOrganizationStatus(context.Background(), h.org.ID, auth.Suspended); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{h.live, h.test} {
		wantStatus(t, h.do(http.MethodGet, "/incidents", key, nil), http.StatusPaymentRequired, "suspended")
		wantStatus(t, h.do(http.MethodPost, "/incidents", key, sos), http.StatusPaymentRequired)
	}
	// A bad key is still 401, not 402: nothing about the organization leaks.
	wantStatus(t, h.do(http.MethodGet, "/incidents", "sety_live_00000000000000000000000000000000", nil), http.StatusUnauthorized)
	if _, err := h.sety.Auth.SetOrganizationStatus(context.Background(), h.org.ID, auth.Active); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, h.do(http.MethodGet, "/incidents", h.live, nil), http.StatusOK)
}

package sety_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
)

func TestAuthentication(t *testing.T) { testAuthentication(t, newMemoryHarness(t)) }

func testAuthentication(t *testing.T, h *harness) {
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
			// Every bad key gets the one answer, saying how to send a key.
			wantStatus(t, rec, http.StatusUnauthorized, "send it as Authorization: Bearer <key>")
			if !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("WWW-Authenticate = %q", rec.Header().Get("WWW-Authenticate"))
			}
		})
	}
	// The scheme name is case-insensitive.
	wantStatus(t, h.api.Get(base+"/incidents", "Authorization: bearer "+h.live), http.StatusOK)
}

func TestScopesPerOperation(t *testing.T) { testScopesPerOperation(t, newMemoryHarness(t)) }

func testScopesPerOperation(t *testing.T, h *harness) {
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
	t.Parallel()
	testSuspendedOrganizationGets402(t, newMemoryHarness(t))
}

func testSuspendedOrganizationGets402(t *testing.T, h *harness) {
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

// A key grants only scopes it holds and revokes only keys whose scopes are
// a subset of its own; "*" is granted and revoked only by "*".
func TestKeysCannotEscalate(t *testing.T) { testKeysCannotEscalate(t, newMemoryHarness(t)) }

func testKeysCannotEscalate(t *testing.T, h *harness) {
	admin := h.key(h.org, auth.Live, auth.KeysWrite)
	everyNamed := h.key(h.org, auth.Live, auth.Scopes[1:]...) // every scope but "*"
	create := func(key string, scopes ...string) *httptest.ResponseRecorder {
		return h.do(http.MethodPost, "/api-keys", key, map[string]any{"name": "new", "scopes": scopes})
	}
	for _, tt := range []struct {
		key    string
		scopes []string
		status int
	}{
		{admin, []string{"*"}, http.StatusForbidden},
		{admin, []string{"incidents:write"}, http.StatusForbidden},
		{admin, []string{"keys:write", "incidents:read"}, http.StatusForbidden},
		{admin, []string{"keys:write"}, http.StatusCreated},
		{everyNamed, []string{"*"}, http.StatusForbidden},
		{everyNamed, []string{"incidents:read", "threat:read"}, http.StatusCreated},
		{h.live, []string{"*"}, http.StatusCreated},
	} {
		rec := create(tt.key, tt.scopes...)
		body := wantStatus(t, rec, tt.status)
		if tt.status == http.StatusForbidden && !strings.Contains(body["message"].(string), "does not hold") {
			t.Errorf("scopes %v: message %q", tt.scopes, body["message"])
		}
	}
	// Revocation: admin may not revoke the "*" key nor a key with scopes it
	// lacks, and may revoke a key of its own scopes.
	idOf := func(rec *httptest.ResponseRecorder) string {
		return decode(t, rec)["api_key"].(map[string]any)["key_id"].(string)
	}
	star := idOf(create(h.live, "*"))
	reader := idOf(create(h.live, "incidents:read"))
	peer := idOf(create(h.live, "keys:write"))
	wantStatus(t, h.do(http.MethodDelete, "/api-keys/"+star, admin, nil), http.StatusForbidden, "does not hold")
	wantStatus(t, h.do(http.MethodDelete, "/api-keys/"+reader, admin, nil), http.StatusForbidden, "incidents:read")
	wantStatus(t, h.do(http.MethodDelete, "/api-keys/"+star, everyNamed, nil), http.StatusForbidden)
	wantStatus(t, h.do(http.MethodDelete, "/api-keys/"+peer, admin, nil), http.StatusOK)
	wantStatus(t, h.do(http.MethodDelete, "/api-keys/"+star, h.live, nil), http.StatusOK)
	// A refused revocation wrote nothing.
	for _, k := range decode(t, h.do(http.MethodGet, "/api-keys?limit=100", h.live, nil))["data"].([]any) {
		if k := k.(map[string]any); k["key_id"] == reader && k["revoked_at"] != nil {
			t.Fatal("a refused revocation revoked the key")
		}
	}
}

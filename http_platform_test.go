package sety_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/adapters/sqlite"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/internal/syncbuf"
)

func TestRateLimits(t *testing.T) {
	t.Parallel()
	h := newMemoryHarness(t)
	// A harness whose Sety enforces limits, on the same fake clock.
	s, err := sety.New(memory.New(), sety.WithClock(h.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	h.sety = s
	h.mount(newHandler(s))
	ctx := context.Background()
	org, _ := s.Auth.CreateOrganization(ctx, "Small", auth.Starter)
	live := h.key(org, auth.Live, auth.All)
	test := h.key(org, auth.Test, auth.All)

	// A sliding minute: the count goes down a minute after the oldest
	// admitted request (t0, 14:22:05.412).
	for i := range 60 {
		rec := h.do(http.MethodGet, "/incidents", live, nil)
		wantStatus(t, rec, http.StatusOK)
		if rec.Header().Get("X-RateLimit-Limit") != "60" || rec.Header().Get("X-RateLimit-Remaining") != strconv.Itoa(59-i) ||
			rec.Header().Get("X-RateLimit-Reset") != "2026-03-10T14:23:05.412Z" {
			t.Fatalf("request %d headers %v", i, rec.Header())
		}
	}
	h.clock.Advance(5 * time.Second)
	rec := h.do(http.MethodGet, "/incidents", live, nil)
	wantStatus(t, rec, http.StatusTooManyRequests, "60")
	if rec.Header().Get("Retry-After") != "55" || rec.Header().Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("429 headers %v", rec.Header())
	}
	// The test environment counts on its own; a bad key is not counted or told.
	wantStatus(t, h.do(http.MethodGet, "/incidents", test, nil), http.StatusOK)
	bad := h.do(http.MethodGet, "/incidents", "sety_live_00000000000000000000000000000000", nil)
	if bad.Code != http.StatusUnauthorized || bad.Header().Get("X-RateLimit-Limit") != "" {
		t.Fatalf("401 carries rate headers: %v", bad.Header())
	}
	// A minute after the burst, the window is empty again.
	h.clock.Advance(55 * time.Second)
	rec = h.do(http.MethodGet, "/incidents", live, nil)
	wantStatus(t, rec, http.StatusOK)
	if rec.Header().Get("X-RateLimit-Remaining") != "59" {
		t.Fatalf("after the reset: %v", rec.Header())
	}
	// The other plans' limits.
	for plan, limit := range map[auth.Plan]string{auth.Growth: "300", auth.Enterprise: "1000"} {
		o, _ := s.Auth.CreateOrganization(ctx, string(plan), plan)
		if got := h.do(http.MethodGet, "/incidents", h.key(o, auth.Live, auth.All), nil).Header().Get("X-RateLimit-Limit"); got != limit {
			t.Errorf("%s limit %q, want %s", plan, got, limit)
		}
	}
}

func TestAPIKeyManagement(t *testing.T) { testAPIKeyManagement(t, newMemoryHarness(t)) }

func testAPIKeyManagement(t *testing.T, h *harness) {
	body := wantStatus(t, h.do(http.MethodPost, "/api-keys", h.test, `{"name":"checkout service","scopes":["incidents:read","incidents:write"],"expires_at":"2027-01-01T00:00:00Z"}`), http.StatusCreated)
	secret := body["key"].(string)
	k := body["api_key"].(map[string]any)
	id := k["key_id"].(string)
	if !strings.HasPrefix(secret, "sety_test_") || k["prefix"] != secret[:14] || k["environment"] != "test" || k["revoked_at"] != nil ||
		k["last_used_at"] != nil || k["expires_at"] != "2027-01-01T00:00:00.000Z" {
		t.Fatalf("created %v", body)
	}
	if strings.Contains(h.do(http.MethodGet, "/api-keys", h.test, nil).Body.String(), secret) {
		t.Fatal("the key leaked into the list")
	}
	// The new key works, within its scopes.
	wantStatus(t, h.do(http.MethodGet, "/incidents", secret, nil), http.StatusOK)
	wantStatus(t, h.do(http.MethodGet, "/access-logs", secret, nil), http.StatusForbidden)
	// Its use is recorded without a write per request.
	if err := h.sety.Auth.FlushLastUsed(context.Background()); err != nil {
		t.Fatal(err)
	}
	list := wantStatus(t, h.do(http.MethodGet, "/api-keys", h.test, nil), http.StatusOK)
	var used any
	for _, it := range list["data"].([]any) {
		if it.(map[string]any)["key_id"] == id {
			used = it.(map[string]any)["last_used_at"]
		}
	}
	if used != "2026-03-10T14:22:05.412Z" || list["pagination"].(map[string]any)["total"] != 2.0 {
		t.Fatalf("list %v", list)
	}
	for b, field := range map[string]string{
		`{"name":"x","scopes":["incidents:delete"]}`:                      "scopes",
		`{"name":"x","scopes":[]}`:                                        "scopes",
		`{"name":"","scopes":["*"]}`:                                      "name",
		`{"name":"x","scopes":["*"],"expires_at":"2020-01-01T00:00:00Z"}`: "expires_at",
	} {
		wantStatus(t, h.do(http.MethodPost, "/api-keys", h.test, b), http.StatusBadRequest, field)
	}
	// A scope named twice is held once.
	dup := wantStatus(t, h.do(http.MethodPost, "/api-keys", h.test, `{"name":"dup","scopes":["incidents:read","access:read","incidents:read"]}`), http.StatusCreated)
	if got := dup["api_key"].(map[string]any)["scopes"]; fmt.Sprint(got) != "[incidents:read access:read]" {
		t.Fatalf("scopes %v, want each once in the order given", got)
	}
	// Revoke: other environment 404 (saying which one was searched); itself
	// 409; then 401 for the key.
	wantStatus(t, h.do(http.MethodDelete, "/api-keys/"+id, h.live, nil), http.StatusNotFound, "in the live environment")
	self := h.do(http.MethodGet, "/api-keys", secret, nil)
	wantStatus(t, self, http.StatusForbidden) // keys:write is not among its scopes
	admin := h.key(h.org, auth.Test, auth.KeysWrite)
	adminID := ""
	for _, it := range wantStatus(t, h.do(http.MethodGet, "/api-keys", admin, nil), http.StatusOK)["data"].([]any) {
		if it.(map[string]any)["prefix"] == admin[:14] {
			adminID = it.(map[string]any)["key_id"].(string)
		}
	}
	wantStatus(t, h.do(http.MethodDelete, "/api-keys/"+adminID, admin, nil), http.StatusConflict, "itself")
	// keys:write alone does not reach a key holding incidents scopes.
	wantStatus(t, h.do(http.MethodDelete, "/api-keys/"+id, admin, nil), http.StatusForbidden, "incidents:read")
	rev := wantStatus(t, h.do(http.MethodDelete, "/api-keys/"+id, h.test, nil), http.StatusOK)
	if rev["api_key"].(map[string]any)["revoked_at"] == nil {
		t.Fatalf("revoke %v", rev)
	}
	wantStatus(t, h.do(http.MethodGet, "/incidents", secret, nil), http.StatusUnauthorized)
	wantStatus(t, h.do(http.MethodDelete, "/api-keys/key_0000000000000000", admin, nil), http.StatusNotFound)
}

// Two servers over one SQLite file share one limit, and a burst across a
// minute's edge is no double burst: on the starter plan at most 60
// requests succeed in any 60 s, across both, and the leases each takes
// leave at least 90 % of them usable.
func TestRateLimitSharedAcrossInstances(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sety.db")
	clk := clock.NewFake(time.Date(2026, 3, 10, 14, 22, 59, 300e6, time.UTC))
	var servers []*harness
	var key string
	for i := range 2 {
		db, err := sqlite.Open(context.Background(), path, &sqlite.Options{Synchronous: "NORMAL"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s, err := sety.New(db, sety.WithClock(clk.Now))
		if err != nil {
			t.Fatal(err)
		}
		h := &harness{t: t, stores: db, sety: s, clock: clk, logs: &syncbuf.Buffer{}}
		h.mount(newHandler(s))
		if i == 0 {
			org, _ := s.Auth.CreateOrganization(context.Background(), "Small", auth.Starter)
			key = h.key(org, auth.Live, auth.All)
		}
		servers = append(servers, h)
	}
	ok := 0
	for i := range 160 { // 1.6 s across 14:23:00, alternating servers
		if servers[i%2].do(http.MethodGet, "/incidents?limit=1", key, nil).Code == http.StatusOK {
			ok++
		}
		clk.Advance(10 * time.Millisecond)
	}
	if ok > 60 || ok < 54 {
		t.Fatalf("%d requests succeeded across two servers and a minute's edge, want 54 to 60", ok)
	}
}

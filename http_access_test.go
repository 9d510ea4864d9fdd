package sety_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
)

func TestAccessOverHTTP(t *testing.T) { testAccessOverHTTP(t, newMemoryHarness(t)) }

func testAccessOverHTTP(t *testing.T, h *harness) {
	body := wantStatus(t, h.do(http.MethodPost, "/access-codes", h.live,
		`{"site":"lekki-gardens","visitor":{"name":"Tolu Bakare","vehicle_plate":"LND-442-KJ"},"host":{"name":"Ada Obi","unit":"C4"},"max_uses":2}`), http.StatusCreated)
	digits := body["code"].(string)
	code := body["access_code"].(map[string]any)
	codeID := code["code_id"].(string)
	if len(digits) != 6 || code["status"] != "active" || code["uses"] != 0.0 || code["code_hint"] != "••••"+digits[4:] || code["revoked_at"] != nil {
		t.Fatalf("created %v", body)
	}
	if strings.Contains(h.do(http.MethodGet, "/access-codes/"+codeID, h.live, nil).Body.String(), digits) {
		t.Fatal("the digits leaked into a read")
	}
	wantStatus(t, h.do(http.MethodPost, "/access-codes", h.live, `{"site":"x"}`), http.StatusBadRequest, "visitor")
	wantStatus(t, h.do(http.MethodPost, "/access-codes", h.live, `{"site":"x","visitor":{"name":"a"},"length":12}`), http.StatusBadRequest, "length")

	// The gate validates; the visitor is on site.
	res := wantStatus(t, h.do(http.MethodPost, "/access-codes/validate", h.live, `{"code":"`+digits+`","site":"lekki-gardens","gate":"North"}`), http.StatusOK)
	logEntry := res["access_log"].(map[string]any)
	logID := logEntry["log_id"].(string)
	if res["valid"] != true || res["reason"] != "ok" || logEntry["method"] != "code" || logEntry["access_code_id"] != codeID {
		t.Fatalf("validate %v", res)
	}
	res = wantStatus(t, h.do(http.MethodPost, "/access-codes/validate", h.live, `{"code":"0000000","site":"lekki-gardens"}`), http.StatusOK)
	if res["valid"] != false || res["reason"] != "not_found" || res["access_code"] != nil || res["access_log"] != nil {
		t.Fatalf("unknown code %v", res)
	}
	wantStatus(t, h.do(http.MethodPost, "/access-codes/validate", h.live, `{"site":"lekki-gardens"}`), http.StatusBadRequest, "code")

	manual := wantStatus(t, h.do(http.MethodPost, "/access-logs", h.live, `{"visitor":{"name":"Emeka"},"site":"lekki-gardens","expected_until":"2026-03-10T15:00:00Z"}`), http.StatusCreated)
	if manual["access_log"].(map[string]any)["method"] != "manual" {
		t.Fatalf("manual %v", manual)
	}
	wantStatus(t, h.do(http.MethodPost, "/access-logs", h.live, `{"visitor":{"name":"Emeka"}}`), http.StatusBadRequest, "site")

	h.clock.Advance(time.Hour)
	cur := wantStatus(t, h.do(http.MethodGet, "/access-logs/current?site=lekki-gardens", h.live, nil), http.StatusOK)
	manualID := manual["access_log"].(map[string]any)["log_id"]
	overstays := 0
	for _, v := range cur["visitors"].([]any) {
		v := v.(map[string]any)
		if v["on_site_seconds"] != 3600.0 {
			t.Fatalf("visitor %v", v)
		}
		if v["overstayed"] == true {
			overstays++
			if v["log_id"] != manualID {
				t.Fatalf("the wrong visitor overstays: %v", v)
			}
		}
	}
	if cur["total"] != 2.0 || overstays != 1 {
		t.Fatalf("current %v", cur)
	}
	list := wantStatus(t, h.do(http.MethodGet, "/access-logs?search=bakare&status=checked_in", h.live, nil), http.StatusOK)
	if list["pagination"].(map[string]any)["total"] != 1.0 {
		t.Fatalf("search %v", list)
	}
	wantStatus(t, h.do(http.MethodGet, "/access-logs?status=gone", h.live, nil), http.StatusBadRequest, "status")

	// Checkout: 200, then 409; bad times 400; other tenants 404.
	wantStatus(t, h.do(http.MethodPatch, "/access-logs/"+logID+"/checkout", h.live, `{"checked_out_at":"2030-01-01T00:00:00Z"}`), http.StatusBadRequest, "checked_out_at")
	out := wantStatus(t, h.do(http.MethodPatch, "/access-logs/"+logID+"/checkout", h.live, nil), http.StatusOK)
	if l := out["access_log"].(map[string]any); l["status"] != "checked_out" || l["duration_seconds"] != 3600.0 {
		t.Fatalf("checkout %v", out)
	}
	wantStatus(t, h.do(http.MethodPatch, "/access-logs/"+logID+"/checkout", h.live, `{}`), http.StatusConflict, "already checked out")
	wantStatus(t, h.do(http.MethodPatch, "/access-logs/"+logID+"/checkout", h.test, nil), http.StatusNotFound)
	wantStatus(t, h.do(http.MethodPatch, "/access-logs/log_0000000000000000/checkout", h.live, nil), http.StatusNotFound)

	stats := wantStatus(t, h.do(http.MethodGet, "/access-logs/stats?site=lekki-gardens&from_date=2026-03-10&to_date=2026-03-10", h.live, nil), http.StatusOK)
	if stats["total_entries"] != 2.0 || stats["currently_on_site"] != 1.0 || stats["checked_out"] != 1.0 || stats["median_visit_seconds"] != 3600.0 ||
		stats["peak_hour"] != 14.0 || len(stats["by_hour"].([]any)) != 24 || stats["overstays"] != 1.0 {
		t.Fatalf("stats %v", stats)
	}
	wantStatus(t, h.do(http.MethodGet, "/access-logs/stats?from_date=2026-03-11&to_date=2026-03-10", h.live, nil), http.StatusBadRequest, "from_date")

	// Codes: list, get, revoke (409 the second time), isolation, scopes.
	codes := wantStatus(t, h.do(http.MethodGet, "/access-codes?status=active&site=lekki-gardens", h.live, nil), http.StatusOK)
	if codes["pagination"].(map[string]any)["total"] != 1.0 {
		t.Fatalf("codes %v", codes)
	}
	wantStatus(t, h.do(http.MethodGet, "/access-codes/"+codeID, h.test, nil), http.StatusNotFound)
	rev := wantStatus(t, h.do(http.MethodPost, "/access-codes/"+codeID+"/revoke", h.live, nil), http.StatusOK)
	if rev["access_code"].(map[string]any)["status"] != "revoked" {
		t.Fatalf("revoke %v", rev)
	}
	wantStatus(t, h.do(http.MethodPost, "/access-codes/"+codeID+"/revoke", h.live, nil), http.StatusConflict, "revoked")
	res = wantStatus(t, h.do(http.MethodPost, "/access-codes/validate", h.live, `{"code":"`+digits+`","site":"lekki-gardens"}`), http.StatusOK)
	if res["reason"] != "revoked" {
		t.Fatalf("revoked code validates as %v", res["reason"])
	}
	readOnly := h.key(h.org, auth.Live, auth.AccessRead)
	wantStatus(t, h.do(http.MethodGet, "/access-logs", readOnly, nil), http.StatusOK)
	wantStatus(t, h.do(http.MethodPost, "/access-codes/validate", readOnly, `{"code":"1","site":"x"}`), http.StatusForbidden, "access:write")
	wantStatus(t, h.do(http.MethodGet, "/access-codes", h.key(h.org, auth.Live, auth.IncidentsRead), nil), http.StatusForbidden, "access:read")
}

// Issue 11: twenty gates presenting one single-use code at once locked the
// site for everyone (1 ok, 5 used_up, 14 locked). A spent code is not a
// guess: one visitor is let in, nineteen are told used_up, and the next
// visitor's code works; only codes that match nothing lock the site.
func TestSpentCodeDoesNotLockTheGate(t *testing.T) {
	t.Parallel()
	testSpentCodeDoesNotLockTheGate(t, newSQLiteHarness(t))
}

func testSpentCodeDoesNotLockTheGate(t *testing.T, h *harness) {
	create := func(body string) string {
		return wantStatus(t, h.do(http.MethodPost, "/access-codes", h.live, body), http.StatusCreated)["code"].(string)
	}
	once := create(`{"site":"lekki-gardens","visitor":{"name":"Tolu Bakare"},"max_uses":1}`)
	next := create(`{"site":"lekki-gardens","visitor":{"name":"Ada Obi"}}`)
	const n = 20
	reasons := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			rec := h.do(http.MethodPost, "/access-codes/validate", h.live, `{"code":"`+once+`","site":"lekki-gardens","gate":"North"}`)
			var body struct{ Reason string }
			_ = json.Unmarshal(rec.Body.Bytes(), &body)
			reasons[i] = fmt.Sprint(rec.Code, " ", body.Reason)
		})
	}
	wg.Wait()
	count := map[string]int{}
	for _, r := range reasons {
		count[r]++
	}
	if count["200 ok"] != 1 || count["200 used_up"] != n-1 {
		t.Fatalf("answers %v, want 1 ok and %d used_up", count, n-1)
	}
	res := wantStatus(t, h.do(http.MethodPost, "/access-codes/validate", h.live, `{"code":"`+next+`","site":"lekki-gardens"}`), http.StatusOK)
	if res["reason"] != "ok" {
		t.Fatalf("the next visitor after %d refusals of a spent code: %v", n-1, res["reason"])
	}
	// Five guesses do lock the site, for every code, for 10 minutes.
	validate := func(code string) any {
		return wantStatus(t, h.do(http.MethodPost, "/access-codes/validate", h.live, `{"code":"`+code+`","site":"lekki-gardens"}`), http.StatusOK)["reason"]
	}
	for i := range 5 {
		if r := validate("0000000"); r != "not_found" {
			t.Fatalf("guess %d: %v", i+1, r)
		}
	}
	if r := validate(next); r != "locked" {
		t.Fatalf("after five guesses: %v, want locked", r)
	}
	h.clock.Advance(10 * time.Minute)
	if r := validate(next); r != "ok" {
		t.Fatalf("after the lock: %v, want ok", r)
	}
}

package sety_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/auth"
)

// tick moves the fake clock and runs the engine, as the server's Run loop
// would.
func (h *harness) tick(d time.Duration) {
	h.t.Helper()
	h.clock.Advance(d)
	if _, err := h.sety.Incidents.Tick(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

func TestOperationsConsoleDispatchesAndReports(t *testing.T) {
	t.Parallel()
	testOperationsConsoleDispatchesAndReports(t, newSQLiteHarness(t))
}

func testOperationsConsoleDispatchesAndReports(t *testing.T, h *harness) {
	body := wantStatus(t, h.do(http.MethodPut, "/responders/rsp_unit000000000007", h.live,
		`{"name":"Unit 7","phone":"+2348031112222","location":[3.3800,6.5250]}`), http.StatusOK)
	r := body["responder"].(map[string]any)
	if r["status"] != "available" || r["incident_id"] != nil || r["idle_since"] != "2026-03-10T14:22:05.412Z" {
		t.Fatalf("new responder %v", r)
	}
	wantStatus(t, h.do(http.MethodPut, "/responders/-unit-7", h.live, `{"name":"x","location":[3,6]}`), http.StatusBadRequest, "responderId")
	wantStatus(t, h.do(http.MethodPut, "/responders/rsp_unit000000000008", h.live, `{"name":"x","location":[3,96]}`), http.StatusBadRequest, "location")
	wantStatus(t, h.do(http.MethodPut, "/responders/rsp_unit000000000008", h.live, `{"name":"x","location":[3,6],"status":"asleep"}`), http.StatusBadRequest, "status")

	id := create(t, h, h.live, `{"category":"sos","severity":"critical","location":{"coordinates":[3.3792,6.5244]}}`)["incident_id"].(string)
	h.tick(0)
	inc := wantStatus(t, h.do(http.MethodGet, "/incidents/"+id, h.live, nil), http.StatusOK)["incident"].(map[string]any)
	rsp, _ := inc["responder"].(map[string]any)
	if inc["status"] != "assigned" || rsp == nil || rsp["responder_id"] != "rsp_unit000000000007" {
		t.Fatalf("after a tick: %v %v", inc["status"], inc["responder"])
	}
	list := wantStatus(t, h.do(http.MethodGet, "/responders?status=busy", h.live, nil), http.StatusOK)
	if list["pagination"].(map[string]any)["total"] != 1.0 {
		t.Fatalf("busy responders %v", list)
	}
	wantStatus(t, h.do(http.MethodPut, "/responders/rsp_unit000000000007", h.live, `{"name":"Unit 7","location":[3.38,6.525],"status":"offline"}`), http.StatusConflict, id)

	h.clock.Advance(4 * time.Minute)
	inc = wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/status", h.live, `{"status":"on_scene"}`), http.StatusOK)["incident"].(map[string]any)
	if inc["status"] != "on_scene" || inc["sla"].(map[string]any)["state"] != "met" || inc["responder"].(map[string]any)["arrived_at"] != "2026-03-10T14:26:05.412Z" {
		t.Fatalf("on scene: %v", inc)
	}
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/status", h.live, `{"status":"responding"}`), http.StatusConflict, "on_scene")
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/status", h.live, `{"status":"assigned"}`), http.StatusBadRequest, "status")
	inc = wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/status", h.live, `{"status":"resolved","outcome":"handled","notes":"Escorted home"}`), http.StatusOK)["incident"].(map[string]any)
	if inc["status"] != "resolved" || inc["resolution_outcome"] != "handled" || inc["resolution_notes"] != "Escorted home" || inc["resolved_at"] == nil {
		t.Fatalf("resolved: %v", inc)
	}
	r = wantStatus(t, h.do(http.MethodGet, "/responders", h.live, nil), http.StatusOK)["data"].([]any)[0].(map[string]any)
	if r["status"] != "available" {
		t.Fatalf("responder after resolve: %v", r)
	}

	// Other tenants see nothing; keys without responders:write get 403.
	_, otherLive, _ := h.newOrg("Other")
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/status", otherLive, `{"status":"resolved"}`), http.StatusNotFound)
	other := wantStatus(t, h.do(http.MethodGet, "/responders", otherLive, nil), http.StatusOK)
	if other["pagination"].(map[string]any)["total"] != 0.0 {
		t.Fatal("another organization sees the pool")
	}
	incidentsOnly := h.key(h.org, auth.Live, auth.IncidentsRead, auth.IncidentsWrite)
	wantStatus(t, h.do(http.MethodGet, "/responders", incidentsOnly, nil), http.StatusForbidden, "responders:write")
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/status", incidentsOnly, `{"status":"resolved"}`), http.StatusForbidden)
}

func TestConsoleIsMountedOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	s, err := sety.New(memory.New())
	if err != nil {
		t.Fatal(err)
	}
	handler, _ := newHandler(s)
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/external/responders", nil))
	wantStatus(t, rec, http.StatusNotFound)
}

func TestDrillReachesResolvedOverHTTP(t *testing.T) {
	t.Parallel()
	testDrillReachesResolvedOverHTTP(t, newMemoryHarness(t))
}

func testDrillReachesResolvedOverHTTP(t *testing.T, h *harness) {
	id := create(t, h, h.test, sos)["incident_id"].(string)
	for range 7 {
		h.tick(10 * time.Second)
	}
	inc := wantStatus(t, h.do(http.MethodGet, "/incidents/"+id, h.test, nil), http.StatusOK)["incident"].(map[string]any)
	timeline := inc["timeline"].([]any)
	sla := inc["sla"].(map[string]any)
	if inc["status"] != "resolved" || inc["responder"] == nil || len(timeline) != 6 || sla["state"] != "met" || sla["time_to_arrive_seconds"] != 30.0 {
		t.Fatalf("drill after 70 s: %v", inc)
	}
}

func TestIncidentAnalyticsOverHTTP(t *testing.T) {
	t.Parallel()
	testIncidentAnalyticsOverHTTP(t, newMemoryHarness(t))
}

func testIncidentAnalyticsOverHTTP(t *testing.T, h *harness) {
	create(t, h, h.live, sos)
	create(t, h, h.live, `{"category":"medical","severity":"low","location":{"coordinates":[3,6]}}`)
	body := wantStatus(t, h.do(http.MethodGet, "/incidents/analytics?from_date=2026-03-01&to_date=2026-03-10", h.live, nil), http.StatusOK)
	if body["total"] != 2.0 || body["from"] != "2026-03-01T00:00:00.000Z" || body["to"] != "2026-03-10T23:59:59.999Z" ||
		len(body["by_day"].([]any)) != 10 || body["by_category"].(map[string]any)["medical"] != 1.0 || body["sla_met_rate"] != nil {
		t.Fatalf("analytics %v", body)
	}
	wantStatus(t, h.do(http.MethodGet, "/incidents/analytics?from_date=2026-03-11&to_date=2026-03-10", h.live, nil), http.StatusBadRequest, "from_date")
	wantStatus(t, h.do(http.MethodGet, "/incidents/analytics?from_date=2024-01-01&to_date=2026-03-10", h.live, nil), http.StatusBadRequest, "366")
	wantStatus(t, h.do(http.MethodGet, "/incidents/analytics", h.key(h.org, auth.Live, auth.IncidentsWrite), nil), http.StatusForbidden)
}

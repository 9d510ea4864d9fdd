package sety_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
)

// farSOS is 60 km from the responder put by putFarResponder: beyond the
// dispatch range, so it waits for a dispatcher.
const farSOS = `{"category":"sos","severity":"critical","location":{"coordinates":[3.3792,6.5244]}}`

func putResponder(t *testing.T, h *harness, key, id string, lng float64) {
	t.Helper()
	wantStatus(t, h.do(http.MethodPut, "/responders/"+id, key, `{"name":"Unit `+id[len(id)-2:]+`","location":[`+
		strings.TrimRight(strings.TrimRight(jsonNumber(lng), "0"), ".")+`,6.5244]}`), http.StatusOK)
}

func jsonNumber(v float64) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestAssignOverHTTP(t *testing.T) { testAssignOverHTTP(t, newSQLiteHarness(t)) }

func testAssignOverHTTP(t *testing.T, h *harness) {
	console := h.key(h.org, auth.Live, auth.Console)
	putResponder(t, h, console, "rsp_unit000000000060", 3.3792+60/110.5) // 60 km east
	putResponder(t, h, console, "rsp_unit000000000070", 3.3792+70/110.5)
	id := create(t, h, console, farSOS)["incident_id"].(string)

	// The nearest available, beyond the range, with distance and ETA.
	body := wantStatus(t, h.do(http.MethodGet, "/incidents/"+id+"/candidates?limit=5", console, nil), http.StatusOK)
	cands := body["candidates"].([]any)
	first := cands[0].(map[string]any)
	if len(cands) != 2 || body["dispatch_range_meters"] != 50000.0 || first["responder_id"] != "rsp_unit000000000060" ||
		first["within_range"] != false || first["distance_meters"].(float64) < 59_000 || first["eta_seconds"].(float64) < 7000 {
		t.Fatalf("candidates %v", body)
	}
	for _, q := range []string{"limit=0", "limit=51", "limit=x"} {
		wantStatus(t, h.do(http.MethodGet, "/incidents/"+id+"/candidates?"+q, console, nil), http.StatusBadRequest, "limit")
	}
	wantStatus(t, h.do(http.MethodGet, "/incidents/inc_0000000000000000/candidates", console, nil), http.StatusNotFound)

	// Bad bodies name the field and change nothing.
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/assign", console, `{"responder_id":"unit 60"}`), http.StatusBadRequest, "responder_id")
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/assign", console, `{}`), http.StatusBadRequest, "responder_id")
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/assign", console, `{"responder_id":"rsp_unit000000000060","extra":1}`), http.StatusBadRequest, "extra")
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/assign", console, `{"responder_id":42}`), http.StatusBadRequest, "responder_id")
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/assign", console, `{"responder_id":"rsp_unit000000000099"}`), http.StatusNotFound, "Responder")

	h.clock.Advance(10 * time.Second)
	inc := wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/assign", console, `{"responder_id":"rsp_unit000000000060","message":"closest unit"}`), http.StatusOK)["incident"].(map[string]any)
	tl := inc["timeline"].([]any)
	last := tl[len(tl)-1].(map[string]any)
	sla := inc["sla"].(map[string]any)
	if inc["status"] != "assigned" || inc["responder"].(map[string]any)["responder_id"] != "rsp_unit000000000060" || last["event"] != "assigned" ||
		!strings.HasSuffix(last["message"].(string), ": closest unit") || sla["state"] != "at_risk" || sla["time_to_assign_seconds"] != 10.0 {
		t.Fatalf("assigned %v", inc)
	}
	// Reassigned to the other one: the first is free again, the status and clocks stay.
	h.clock.Advance(10 * time.Second)
	inc = wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/assign", console, `{"responder_id":"rsp_unit000000000070"}`), http.StatusOK)["incident"].(map[string]any)
	if inc["status"] != "assigned" || inc["responder"].(map[string]any)["responder_id"] != "rsp_unit000000000070" || inc["sla"].(map[string]any)["time_to_assign_seconds"] != 10.0 {
		t.Fatalf("reassigned %v", inc)
	}
	free := wantStatus(t, h.do(http.MethodGet, "/responders?status=available", console, nil), http.StatusOK)["data"].([]any)
	if len(free) != 1 || free[0].(map[string]any)["responder_id"] != "rsp_unit000000000060" {
		t.Fatalf("available after the reassignment: %v", free)
	}
	// Conflicts: the responder is busy, or the incident is over.
	other := create(t, h, console, farSOS)["incident_id"].(string)
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+other+"/assign", console, `{"responder_id":"rsp_unit000000000070"}`), http.StatusConflict, "busy")
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/status", console, `{"status":"resolved","outcome":"handled"}`), http.StatusOK)
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/assign", console, `{"responder_id":"rsp_unit000000000060"}`), http.StatusConflict, "resolved")

	// Other tenants and environments see nothing of it; other scopes may not.
	_, otherLive, _ := h.newOrg("Other")
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+other+"/assign", otherLive, `{"responder_id":"rsp_unit000000000060"}`), http.StatusNotFound)
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+other+"/assign", h.test, `{"responder_id":"rsp_unit000000000060"}`), http.StatusNotFound)
	readOnly := h.key(h.org, auth.Live, auth.IncidentsRead, auth.IncidentsWrite)
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+other+"/assign", readOnly, `{"responder_id":"rsp_unit000000000060"}`), http.StatusForbidden, "responders:write")
	wantStatus(t, h.do(http.MethodGet, "/incidents/"+other+"/candidates", readOnly, nil), http.StatusForbidden)
}

// Every console action reaches webhooks, signed and as the document says:
// the assignment and the SLA risk it brings among them.
func TestConsoleActionsReachWebhooks(t *testing.T) {
	t.Parallel()
	h := newMemoryHarness(t)
	var mu sync.Mutex
	var types []string
	var bodies [][]byte
	var reqs []*http.Request
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var ev struct{ Type string }
		_ = json.Unmarshal(b, &ev)
		mu.Lock()
		types, bodies, reqs = append(types, ev.Type), append(bodies, b), append(reqs, r)
		mu.Unlock()
	}))
	defer receiver.Close()
	wantStatus(t, h.do(http.MethodPost, "/webhooks", h.live, `{"url":"`+receiver.URL+`","events":["incident.*"]}`), http.StatusCreated)
	console := h.key(h.org, auth.Live, auth.Console)
	putResponder(t, h, console, "rsp_unit000000000060", 3.3792+60/110.5)
	id := create(t, h, console, farSOS)["incident_id"].(string)
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/assign", console, `{"responder_id":"rsp_unit000000000060"}`), http.StatusOK)
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/status", console, `{"status":"on_scene"}`), http.StatusOK)
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/notes", console, `{"message":"gate code 4411"}`), http.StatusCreated)
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/status", console, `{"status":"resolved","outcome":"referred","notes":"taken to hospital"}`), http.StatusOK)
	if _, err := h.sety.Webhooks.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := "incident.created,incident.dispatching,incident.assigned,incident.sla_at_risk,incident.on_scene,incident.note_added,incident.resolved"
	if strings.Join(types, ",") != want {
		t.Fatalf("delivered %v, want %s", types, want)
	}
	for i, r := range reqs {
		if err := h.doc.checkDelivery(r, bodies[i]); err != nil {
			t.Errorf("delivery %s does not match the document: %v", types[i], err)
		}
	}
}

func TestConsoleScope(t *testing.T) {
	t.Parallel()
	h := newMemoryHarness(t)
	// A * key issues a console key; the console key issues none.
	body := wantStatus(t, h.do(http.MethodPost, "/api-keys", h.live, `{"name":"dispatch desk","scopes":["console"]}`), http.StatusCreated)
	console := body["key"].(string)
	wantStatus(t, h.do(http.MethodPost, "/api-keys", console, `{"name":"x","scopes":["incidents:read"]}`), http.StatusForbidden, "keys:write")
	for _, c := range []struct {
		method, path, body string
		status             int
	}{
		{http.MethodGet, "/incidents", "", http.StatusOK},
		{http.MethodPost, "/incidents", sos, http.StatusCreated},
		{http.MethodGet, "/incidents/analytics", "", http.StatusOK},
		{http.MethodGet, "/responders", "", http.StatusOK},
		{http.MethodPut, "/responders/rsp_unit000000000001", `{"name":"Unit 1","location":[3.38,6.52]}`, http.StatusOK},
		{http.MethodGet, "/safety/score?lat=6.52&lng=3.38", "", http.StatusOK},
		{http.MethodGet, "/events/stream", "", http.StatusServiceUnavailable}, // authorized (the harness runs no stream hub)
		{http.MethodGet, "/webhooks", "", http.StatusForbidden},
		{http.MethodGet, "/api-keys", "", http.StatusForbidden},
		{http.MethodGet, "/access-codes", "", http.StatusForbidden},
	} {
		var b any
		if c.body != "" {
			b = c.body
		}
		if rec := h.do(c.method, c.path, console, b); rec.Code != c.status {
			t.Errorf("%s %s with a console key: %d, want %d: %s", c.method, c.path, rec.Code, c.status, rec.Body.String())
		}
	}
}

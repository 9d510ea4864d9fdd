package sety_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety/incident"
)

// readSpecExample reads a copy of the public docs' example bodies
// (shared/spec/examples), kept in testdata so the test needs nothing outside
// the repository.
func readSpecExample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The docs' own create request gets exactly the contract's response shape.
// Sety dispatches at once: the incident comes back as the create committed
// it, here queued in dispatching (no responder in the pool), where the
// docs' example shows the instant before.
func TestCreateIncidentMatchesTheContract(t *testing.T) {
	t.Parallel()
	testCreateIncidentMatchesTheContract(t, newMemoryHarness(t))
}

func testCreateIncidentMatchesTheContract(t *testing.T, h *harness) {
	rec := h.do(http.MethodPost, "/incidents", h.live, readSpecExample(t, "create-incident.request.json"))
	body := wantStatus(t, rec, http.StatusCreated)
	inc := body["incident"].(map[string]any)
	id := inc["incident_id"].(string)
	if !strings.HasPrefix(id, "inc_") || len(id) != 20 {
		t.Fatalf("incident_id %q", id)
	}
	want := `{
	  "incident": {
	    "incident_id": "` + id + `",
	    "idempotency_key": "trip_7f3k92lq",
	    "category": "vehicle",
	    "severity": "critical",
	    "status": "dispatching",
	    "subject": {"name": "Chidinma Eze", "phone": "+2348031234567", "email": null, "reference": "RIDER-30417", "metadata": {}},
	    "title": "Vehicle emergency",
	    "description": null,
	    "location": {"coordinates": [3.4219, 6.4281], "address": "22 Adeola Odeku Street, Victoria Island, Lagos", "landmark": null},
	    "resolution_outcome": null,
	    "resolution_notes": null,
	    "is_drill": false,
	    "timeline": [{"status": "created", "event": "created", "message": "Incident received", "timestamp": "2026-03-10T14:22:05.412Z"},
	                 {"status": "dispatching", "event": "dispatching", "message": "No responder is available within the 50 km dispatch range: waiting for one", "timestamp": "2026-03-10T14:22:05.412Z"}],
	    "sla": {"assign_target_seconds": 60, "arrive_target_seconds": 480, "assign_by": "2026-03-10T14:23:05.412Z", "arrive_by": "2026-03-10T14:30:05.412Z",
	            "time_to_assign_seconds": null, "time_to_arrive_seconds": null, "state": "on_track"},
	    "responder": null,
	    "created_at": "2026-03-10T14:22:05.412Z",
	    "updated_at": "2026-03-10T14:22:05.412Z",
	    "resolved_at": null,
	    "cancelled_at": null,
	    "cancel_reason_code": null,
	    "sequence": 2
	  },
	  "idempotent": false
	}`
	var wantBody map[string]any
	if err := json.Unmarshal([]byte(want), &wantBody); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(body)
	exp, _ := json.Marshal(wantBody)
	if string(got) != string(exp) {
		t.Fatalf("body\n got %s\nwant %s", got, exp)
	}
	// Every field of the docs' example response is present, in the same
	// order, beside the fields the contract adds.
	ours := []string{"sla", "responder", "cancel_reason_code", "sequence"}
	var docs struct{ Incident json.RawMessage }
	_ = json.Unmarshal([]byte(readSpecExample(t, "create-incident.response.json")), &docs)
	if keys(t, docs.Incident) != keys(t, mustRaw(t, rec.Body.Bytes(), "incident"), ours...) {
		t.Fatalf("field order differs from the docs:\n got %s\nwant %s", keys(t, mustRaw(t, rec.Body.Bytes(), "incident"), ours...), keys(t, docs.Incident))
	}
}

// keys lists the top-level keys of a JSON object in order, leaving out skip.
func keys(t *testing.T, raw json.RawMessage, skip ...string) string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	var out []string
	depth := 0
	expectKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' || v == '[' {
				depth++
				expectKey = v == '{' && depth == 1
			} else {
				depth--
				expectKey = depth == 1
			}
			continue
		case string:
			if depth == 1 && expectKey {
				if !contains(skip, v) {
					out = append(out, v)
				}
				expectKey = false
				continue
			}
		}
		if depth == 1 {
			expectKey = true
		}
	}
	return strings.Join(out, ",")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func mustRaw(t *testing.T, body []byte, field string) json.RawMessage {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	return m[field]
}

func create(t testing.TB, h *harness, key, body string) map[string]any {
	t.Helper()
	rec := h.do(http.MethodPost, "/incidents", key, body)
	out := wantStatus(t, rec, http.StatusCreated)
	return out["incident"].(map[string]any)
}

const sos = `{"category":"sos","location":{"coordinates":[3.3792,6.5244]}}`

func TestIdempotentReplay(t *testing.T) { testIdempotentReplay(t, newMemoryHarness(t)) }

func testIdempotentReplay(t *testing.T, h *harness) {
	first := create(t, h, h.live, `{"category":"sos","idempotency_key":"trip_1","location":{"coordinates":[3.3792,6.5244]}}`)
	rec := h.do(http.MethodPost, "/incidents", h.live, `{"category":"medical","severity":"low","idempotency_key":"trip_1","location":{"coordinates":[3,6]}}`)
	body := wantStatus(t, rec, http.StatusOK)
	again := body["incident"].(map[string]any)
	if body["idempotent"] != true || again["incident_id"] != first["incident_id"] || again["category"] != "sos" {
		t.Fatalf("replay returned %v", body)
	}
	// The sandbox has its own key space.
	other := create(t, h, h.test, `{"category":"sos","idempotency_key":"trip_1","location":{"coordinates":[3.3792,6.5244]}}`)
	if other["incident_id"] == first["incident_id"] {
		t.Fatal("a test key replayed a live incident")
	}
}

func TestConcurrentDuplicateCreatesMakeOneIncident(t *testing.T) {
	t.Parallel()
	testConcurrentDuplicateCreatesMakeOneIncident(t, newSQLiteHarness(t))
}

func testConcurrentDuplicateCreatesMakeOneIncident(t *testing.T, h *harness) {
	const n = 24
	codes := make([]int, n)
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			rec := h.do(http.MethodPost, "/incidents", h.live, `{"category":"sos","idempotency_key":"ride_42","location":{"coordinates":[3.3792,6.5244]}}`)
			codes[i] = rec.Code
			var body struct {
				Incident struct {
					ID string `json:"incident_id"`
				}
			}
			_ = json.Unmarshal(rec.Body.Bytes(), &body)
			ids[i] = body.Incident.ID
		})
	}
	wg.Wait()
	created := 0
	for i := range n {
		switch codes[i] {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Fatalf("request %d: status %d", i, codes[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("two incidents: %s and %s", ids[0], ids[i])
		}
	}
	if created != 1 {
		t.Fatalf("%d requests got 201, want exactly 1", created)
	}
	list := wantStatus(t, h.do(http.MethodGet, "/incidents", h.live, nil), http.StatusOK)
	if total := list["pagination"].(map[string]any)["total"]; total != 1.0 {
		t.Fatalf("%v incidents listed, want 1", total)
	}
}

func TestCreateRejectsBadInput(t *testing.T) {
	t.Parallel()
	h := newMemoryHarness(t)
	tests := []struct {
		name, body string
		status     int
		field      string
	}{
		{"no category", `{"location":{"coordinates":[3,6]}}`, 400, "category"},
		{"unknown category", `{"category":"fire","location":{"coordinates":[3,6]}}`, 400, "category"},
		{"no location", `{"category":"sos"}`, 400, "location"},
		{"no coordinates", `{"category":"sos","location":{"address":"x"}}`, 400, "coordinates"},
		{"one coordinate", `{"category":"sos","location":{"coordinates":[3]}}`, 400, "coordinates"},
		{"null coordinates", `{"category":"sos","location":{"coordinates":null}}`, 400, "coordinates"},
		{"three coordinates", `{"category":"sos","location":{"coordinates":[3,6,1]}}`, 400, "coordinates"},
		{"latitude out of range", `{"category":"sos","location":{"coordinates":[3,91]}}`, 400, "coordinates"},
		{"longitude out of range", `{"category":"sos","location":{"coordinates":[-180.01,6]}}`, 400, "coordinates"},
		{"NaN as text", `{"category":"sos","location":{"coordinates":["NaN",6]}}`, 400, "coordinates"},
		{"number overflow", `{"category":"sos","location":{"coordinates":[1e999,6]}}`, 400, "body"},
		{"wrong type", `{"category":7,"location":{"coordinates":[3,6]}}`, 400, "category"},
		{"unknown field", `{"category":"sos","location":{"coordinates":[3,6]},"priority":"p1"}`, 400, "priority"},
		{"unknown nested field", `{"category":"sos","location":{"coordinates":[3,6],"city":"Lagos"}}`, 400, "city"},
		{"bad severity", `{"category":"sos","severity":"extreme","location":{"coordinates":[3,6]}}`, 400, "severity"},
		{"bad phone", `{"category":"sos","location":{"coordinates":[3,6]},"subject":{"phone":"0803 123 4567"}}`, 400, "phone"},
		{"bad email", `{"category":"sos","location":{"coordinates":[3,6]},"subject":{"email":"eze@"}}`, 400, "email"},
		{"metadata not flat", `{"category":"sos","location":{"coordinates":[3,6]},"subject":{"metadata":{"a":{"b":1}}}}`, 400, "metadata"},
		{"title too long", `{"category":"sos","location":{"coordinates":[3,6]},"title":"` + strings.Repeat("t", 201) + `"}`, 400, "title"},
		{"description too long", `{"category":"sos","location":{"coordinates":[3,6]},"description":"` + strings.Repeat("d", 5001) + `"}`, 400, "description"},
		{"idempotency key too long", `{"category":"sos","location":{"coordinates":[3,6]},"idempotency_key":"` + strings.Repeat("k", 256) + `"}`, 400, "idempotency_key"},
		{"control character", `{"category":"sos","location":{"coordinates":[3,6]},"title":"a\u0000b"}`, 400, "title"},
		{"not JSON", `{"category":`, 400, "body"},
		{"array body", `[]`, 400, "body"},
		{"body too large", `{"category":"sos","location":{"coordinates":[3,6]},"description":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "65536"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := wantStatus(t, h.do(http.MethodPost, "/incidents", h.live, tt.body), tt.status, tt.field)
			if strings.Contains(fmt.Sprint(body), "Go value") {
				t.Fatalf("message leaks Go internals: %v", body)
			}
		})
	}
	// Nothing was half-written.
	list := wantStatus(t, h.do(http.MethodGet, "/incidents", h.live, nil), http.StatusOK)
	if total := list["pagination"].(map[string]any)["total"]; total != 0.0 {
		t.Fatalf("%v incidents exist after only bad requests", total)
	}
	events, _ := h.stores.OutboxReader().PendingEvents(context.Background(), 10)
	if len(events) != 0 {
		t.Fatalf("%d outbox events after only bad requests", len(events))
	}
}

func TestDrills(t *testing.T) { testDrills(t, newMemoryHarness(t)) }

func testDrills(t *testing.T, h *harness) {
	if inc := create(t, h, h.test, sos); inc["is_drill"] != true {
		t.Fatal("test key made a live incident")
	}
	if inc := create(t, h, h.test, `{"category":"sos","is_drill":false,"location":{"coordinates":[3,6]}}`); inc["is_drill"] != true {
		t.Fatal("test key made a live incident when asked")
	}
	if inc := create(t, h, h.live, sos); inc["is_drill"] != false {
		t.Fatal("live key made a drill unasked")
	}
	if inc := create(t, h, h.live, `{"category":"sos","is_drill":true,"location":{"coordinates":[3,6]}}`); inc["is_drill"] != true {
		t.Fatal("live key could not make a drill")
	}
}

func TestGetIncidentIsolation(t *testing.T) { testGetIncidentIsolation(t, newMemoryHarness(t)) }

func testGetIncidentIsolation(t *testing.T, h *harness) {
	_, otherLive, otherTest := h.newOrg("Other Org")
	inc := create(t, h, h.live, sos)
	id := inc["incident_id"].(string)

	got := wantStatus(t, h.do(http.MethodGet, "/incidents/"+id, h.live, nil), http.StatusOK)
	if got["incident"].(map[string]any)["incident_id"] != id {
		t.Fatalf("got %v", got)
	}
	// The 404 says which environment the key searched, whoever owns the id.
	for name, key := range map[string]string{"other environment": h.test, "other org": otherLive, "other org sandbox": otherTest} {
		env := key[len("sety_") : len("sety_")+4]
		t.Run(name, func(t *testing.T) {
			wantStatus(t, h.do(http.MethodGet, "/incidents/"+id, key, nil), http.StatusNotFound, "Incident not found in the "+env+" environment")
			wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/cancel", key, nil), http.StatusNotFound)
			wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/notes", key, `{"message":"hi"}`), http.StatusNotFound)
		})
	}
	for _, bad := range []string{"inc_0000000000000000", "inc_'%20OR%201=1", "nope", strings.Repeat("a", 64)} {
		wantStatus(t, h.do(http.MethodGet, "/incidents/"+bad, h.live, nil), http.StatusNotFound)
	}
	wantStatus(t, h.do(http.MethodGet, "/incidents/"+strings.Repeat("a", 65), h.live, nil), http.StatusBadRequest, "incidentId")
}

func TestListIncidents(t *testing.T) { testListIncidents(t, newMemoryHarness(t)) }

func testListIncidents(t *testing.T, h *harness) {
	var ids []string
	for i, body := range []string{
		`{"category":"sos","location":{"coordinates":[3,6]}}`,
		`{"category":"vehicle","severity":"low","location":{"coordinates":[3,6]}}`,
		`{"category":"medical","location":{"coordinates":[3,6]}}`,
		`{"category":"location_threat","location":{"coordinates":[3,6]}}`,
		`{"category":"sos","severity":"critical","location":{"coordinates":[3,6]}}`,
	} {
		h.clock.Set(t0.Add(time.Duration(i) * 24 * time.Hour))
		ids = append(ids, create(t, h, h.live, body)["incident_id"].(string))
	}
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+ids[2]+"/cancel", h.live, nil), http.StatusOK)
	create(t, h, h.test, sos) // another environment: never listed with the live key

	listed := func(query string) ([]string, map[string]any) {
		t.Helper()
		body := wantStatus(t, h.do(http.MethodGet, "/incidents"+query, h.live, nil), http.StatusOK)
		var out []string
		for _, it := range body["data"].([]any) {
			out = append(out, it.(map[string]any)["incident_id"].(string))
		}
		return out, body["pagination"].(map[string]any)
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{ids[4], ids[3], ids[2], ids[1], ids[0]}},
		{"?category=sos", []string{ids[4], ids[0]}},
		{"?category=sos,medical", []string{ids[4], ids[2], ids[0]}},
		{"?severity=low", []string{ids[1]}},
		{"?severity=high&category=sos", []string{ids[0]}},
		{"?status=cancelled", []string{ids[2]}},
		{"?status=created,dispatching", []string{ids[4], ids[3], ids[1], ids[0]}},
		{"?from_date=2026-03-11&to_date=2026-03-12", []string{ids[2], ids[1]}},
		{"?from_date=2026-03-13T14:22:05.412Z", []string{ids[4], ids[3]}},
		{"?to_date=2026-03-10T14:22:05.412Z", []string{ids[0]}},
		{"?limit=2&page=2", []string{ids[2], ids[1]}},
		{"?limit=2&page=9", nil},
	}
	for _, tt := range tests {
		got, _ := listed(tt.query)
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s: got %v, want %v", tt.query, got, tt.want)
		}
	}
	_, p := listed("?limit=2&page=2")
	if p["page"] != 2.0 || p["limit"] != 2.0 || p["total"] != 5.0 || p["total_pages"] != 3.0 || p["has_more"] != true {
		t.Fatalf("pagination %v", p)
	}
	_, p = listed("?limit=2&page=3")
	if p["has_more"] != false {
		t.Fatalf("last page has_more %v", p["has_more"])
	}
	body := wantStatus(t, h.do(http.MethodGet, "/incidents?limit=2&page=9", h.live, nil), http.StatusOK)
	if data, ok := body["data"].([]any); !ok || len(data) != 0 {
		t.Fatalf("empty page data = %v, want []", body["data"])
	}
	for query, field := range map[string]string{
		"?status=open":         "status",
		"?category=fire":       "category",
		"?severity=urgent":     "severity",
		"?page=0":              "page",
		"?page=-1":             "page",
		"?limit=0":             "limit",
		"?limit=101":           "limit",
		"?limit=ten":           "limit",
		"?from_date=yesterday": "from_date",
		"?from_date=2026-03-12&to_date=2026-03-11": "from_date",
	} {
		wantStatus(t, h.do(http.MethodGet, "/incidents"+query, h.live, nil), http.StatusBadRequest, field)
	}
}

func TestCancelIncident(t *testing.T) { testCancelIncident(t, newMemoryHarness(t)) }

func testCancelIncident(t *testing.T, h *harness) {
	id := create(t, h, h.live, sos)["incident_id"].(string)
	h.clock.Advance(2 * time.Minute)
	body := wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/cancel", h.live, `{"reason":"User confirmed safe"}`), http.StatusOK)
	inc := body["incident"].(map[string]any)
	timeline := inc["timeline"].([]any)
	last := timeline[len(timeline)-1].(map[string]any)
	if inc["status"] != "cancelled" || inc["cancelled_at"] != "2026-03-10T14:24:05.412Z" || inc["updated_at"] != inc["cancelled_at"] ||
		last["event"] != "cancelled" || last["message"] != "Incident cancelled: User confirmed safe" {
		t.Fatalf("cancelled incident %v", inc)
	}
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/cancel", h.live, nil), http.StatusConflict, "cancelled")

	// The body is optional, and an empty object is fine too.
	for _, b := range []any{nil, `{}`} {
		other := create(t, h, h.live, sos)["incident_id"].(string)
		wantStatus(t, h.do(http.MethodPost, "/incidents/"+other+"/cancel", h.live, b), http.StatusOK)
	}
	other := create(t, h, h.live, sos)["incident_id"].(string)
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+other+"/cancel", h.live, `{"reason":"`+strings.Repeat("r", 1001)+`"}`), http.StatusBadRequest, "reason")
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+other+"/cancel", h.live, `{"why":"x"}`), http.StatusBadRequest, "why")
	wantStatus(t, h.do(http.MethodPost, "/incidents/inc_0000000000000000/cancel", h.live, nil), http.StatusNotFound)
}

func TestAddNote(t *testing.T) { testAddNote(t, newMemoryHarness(t)) }

func testAddNote(t *testing.T, h *harness) {
	id := create(t, h, h.live, sos)["incident_id"].(string)
	h.clock.Advance(time.Second)
	body := wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/notes", h.live, `{"message":"Caller says the car is a grey Corolla 🚗"}`), http.StatusCreated)
	timeline := body["incident"].(map[string]any)["timeline"].([]any)
	last := timeline[len(timeline)-1].(map[string]any)
	if len(timeline) != 3 || last["event"] != "note_added" || last["status"] != "dispatching" ||
		last["message"] != "Caller says the car is a grey Corolla 🚗" || last["timestamp"] != "2026-03-10T14:22:06.412Z" {
		t.Fatalf("timeline %v", timeline)
	}
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/notes", h.live, `{"message":""}`), http.StatusBadRequest, "message")
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/notes", h.live, `{"message":"   "}`), http.StatusBadRequest, "message")
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/notes", h.live, `{}`), http.StatusBadRequest, "message")
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/notes", h.live, `{"message":"`+strings.Repeat("n", 2001)+`"}`), http.StatusBadRequest, "message")
	// Notes are allowed after the end, too.
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/cancel", h.live, nil), http.StatusOK)
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/notes", h.live, `{"message":"closed by phone"}`), http.StatusCreated)
}

// Every change writes its outbox event with the incident's next sequence.
func TestChangesWriteOutboxEvents(t *testing.T) { testChangesWriteOutboxEvents(t, newSQLiteHarness(t)) }

func testChangesWriteOutboxEvents(t *testing.T, h *harness) {
	id := create(t, h, h.live, sos)["incident_id"].(string)
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/notes", h.live, `{"message":"on the phone"}`), http.StatusCreated)
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/cancel", h.live, nil), http.StatusOK)
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/cancel", h.live, nil), http.StatusConflict) // writes nothing
	events, err := h.stores.OutboxReader().PendingEvents(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{incident.TypeCreated, incident.TypeDispatching, incident.TypeNoteAdded, incident.TypeCancelled}
	if len(events) != len(want) {
		t.Fatalf("%d events, want %d", len(events), len(want))
	}
	for i, ev := range events {
		var data struct{ Incident incident.Incident }
		if err := json.Unmarshal(ev.Data, &data); err != nil {
			t.Fatal(err)
		}
		if ev.Type != want[i] || ev.Sequence != int64(i+1) || ev.SubjectID != id || ev.OrgID != h.org.ID || ev.Environment != "live" ||
			data.Incident.ID != id || len(data.Incident.Timeline) != i+1 {
			t.Fatalf("event %d: %+v (timeline %d)", i, ev, len(data.Incident.Timeline))
		}
	}
}

// A cancel's reason_code is kept on the incident; an unknown one is 400.
func TestCancelReasonCode(t *testing.T) { testCancelReasonCode(t, newMemoryHarness(t)) }

func testCancelReasonCode(t *testing.T, h *harness) {
	id := create(t, h, h.live, sos)["incident_id"].(string)
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/cancel", h.live, `{"reason_code":"prank"}`), http.StatusBadRequest, "reason_code")
	got := wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/cancel", h.live, `{"reason":"pocket dial","reason_code":"false_alarm"}`), http.StatusOK)
	inc := got["incident"].(map[string]any)
	if inc["cancel_reason_code"] != "false_alarm" || inc["status"] != "cancelled" {
		t.Fatalf("cancelled incident %v", inc)
	}
	other := create(t, h, h.live, sos)["incident_id"].(string)
	got = wantStatus(t, h.do(http.MethodPost, "/incidents/"+other+"/cancel", h.live, nil), http.StatusOK)
	if code, ok := got["incident"].(map[string]any)["cancel_reason_code"]; !ok || code != nil {
		t.Fatalf("cancel without a code: cancel_reason_code = %v, want null", code)
	}
}

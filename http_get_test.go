package sety_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/incident"
)

func TestGetIncidentIsolationSQLite(t *testing.T) { testGetIncidentIsolation(t, newSQLiteHarness(t)) }

// On SQLite a get answers with JSON kept from an earlier get of the same
// stored incident while its SLA fields show the same: every answer must be
// byte for byte what encoding the incident afresh gives (Service.Get, the
// library's copy), as the clock moves the SLA on and as the incident
// changes.
func TestGetIncidentAnswersWhatEncodingGives(t *testing.T) {
	h := newSQLiteHarness(t)
	body := `{"category":"medical","severity":"high","title":"<b>Chest pain</b> & fainting","description":"U+2028 \u2028 and \"quotes\"",` +
		`"location":{"coordinates":[3.3792,6.5244],"address":"12 <Allen> Avenue & Co"}}`
	id := create(t, h, h.live, body)["incident_id"].(string)
	tenant := auth.Tenant{OrgID: h.org.ID, Env: auth.Live}

	want := func(what string) {
		t.Helper()
		inc, err := h.sety.Incidents.Get(context.Background(), tenant, id)
		if err != nil {
			t.Fatal(err)
		}
		var fresh bytes.Buffer
		enc := json.NewEncoder(&fresh)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(map[string]*incident.Incident{"incident": inc}); err != nil {
			t.Fatal(err)
		}
		for range 2 { // the first may encode, the second answers from what was kept
			rec := h.do(http.MethodGet, "/incidents/"+id, h.live, nil)
			if rec.Code != http.StatusOK || rec.Body.String() != fresh.String() {
				t.Fatalf("%s: get answered %d\n%s\nencoding afresh gives\n%s", what, rec.Code, rec.Body, fresh.String())
			}
		}
	}
	want("new")
	sla := func() string {
		t.Helper()
		return decode(t, h.do(http.MethodGet, "/incidents/"+id, h.live, nil))["incident"].(map[string]any)["sla"].(map[string]any)["state"].(string)
	}
	if got := sla(); got != "on_track" {
		t.Fatalf("sla state at creation %q, want on_track", got)
	}
	h.clock.Advance(80 * time.Second) // past 80 % of the 90 s assignment target
	want("at risk")
	if got := sla(); got != "at_risk" {
		t.Fatalf("sla state after 80 s %q, want at_risk", got)
	}
	h.clock.Advance(time.Hour)
	want("breached")
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/notes", h.live, `{"message":"Caller <calm> now & safe"}`), http.StatusCreated)
	want("after a note")
	wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/cancel", h.live, nil), http.StatusOK)
	want("cancelled")
}

// Gets that share the kept incident and its kept JSON run beside changes
// of it: each answer is a whole state, never older than one the same
// client saw before (run with -race, the shared values are only read).
func TestConcurrentGetsSeeEveryChangeInOrder(t *testing.T) {
	h := newSQLiteHarness(t)
	id := create(t, h, h.live, sos)["incident_id"].(string)
	const notes = 20
	done := make(chan struct{})
	errs := make(chan string, 8)
	for range 4 {
		go func() {
			seen := 0
			for {
				select {
				case <-done:
					errs <- ""
					return
				default:
				}
				rec := h.do(http.MethodGet, "/incidents/"+id, h.live, nil)
				var got struct {
					Incident struct {
						Timeline []json.RawMessage `json:"timeline"`
					} `json:"incident"`
				}
				if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &got) != nil {
					errs <- rec.Body.String()
					return
				}
				n := len(got.Incident.Timeline)
				if n < seen {
					errs <- "the timeline went back from " + strconv.Itoa(seen) + " to " + strconv.Itoa(n) + " entries"
					return
				}
				seen = n
			}
		}()
	}
	for range notes {
		wantStatus(t, h.do(http.MethodPost, "/incidents/"+id+"/notes", h.live, `{"message":"Still here"}`), http.StatusCreated)
	}
	close(done)
	for range 4 {
		if e := <-errs; e != "" {
			t.Fatal(e)
		}
	}
	final := decode(t, h.do(http.MethodGet, "/incidents/"+id, h.live, nil))["incident"].(map[string]any)
	if n := len(final["timeline"].([]any)); n < notes {
		t.Fatalf("timeline of %d entries after %d notes", n, notes)
	}
}

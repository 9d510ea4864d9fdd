package sety_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/httpapi"
	"github.com/sety-io/sety/outbox"
)

// A create answers with the incident's JSON the service encoded once for
// its event and its store (incident.Service.CreateEncoded): the bytes must
// be what encoding the answer gives, HTML-like text, line separators and
// other scripts included, on every store; a get of the incident (which
// decodes what the store kept) shows the same incident; and the
// incident.created event carries the same snapshot.
func TestCreateAnswersWithTheIncidentEncodedOnce(t *testing.T) {
	t.Parallel()
	for name, h := range map[string]*harness{"memory": newMemoryHarness(t), "sqlite": newSQLiteHarness(t)} {
		t.Run(name, func(t *testing.T) {
			body := map[string]any{
				"category": "sos", "severity": "high", "title": `<b>Rider</b> & "driver" — Ade\u2028Ọlá`,
				"description": "Tags: <script>alert(1)</script> & \u2029 ☎ \\ é",
				"subject":     map[string]any{"name": "A & B <c>", "metadata": map[string]string{"<k>": "&v"}},
				"location":    map[string]any{"coordinates": []float64{3.4219, 6.4281}, "address": "22 <Adeola> & Odeku"},
			}
			rec := h.do(http.MethodPost, "/incidents", h.live, body)
			wantStatus(t, rec, http.StatusCreated)
			var created struct {
				Incident   *incident.Incident `json:"incident"`
				Idempotent bool               `json:"idempotent"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil {
				t.Fatal(err)
			}
			want, err := httpapi.EncodeJSON(created)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(rec.Body.Bytes(), want) {
				t.Fatalf("the create's body is not what encoding it gives:\n got %s\nwant %s", rec.Body.Bytes(), want)
			}
			got := h.do(http.MethodGet, "/incidents/"+created.Incident.ID, h.live, nil)
			wantStatus(t, got, http.StatusOK)
			if !bytes.Equal(got.Body.Bytes(), bytes.Replace(want, []byte(`,"idempotent":false}`), []byte(`}`), 1)) {
				t.Fatalf("a get shows another incident than the create's answer:\n got %s\nwant %s", got.Body.Bytes(), want)
			}
			all, _, err := h.stores.EventLog().EventsAfter(t.Context(), 0, outbox.Filter{TypePrefix: "incident."}, 100)
			var events []outbox.Event
			for _, ev := range all {
				if ev.SubjectID == created.Incident.ID {
					events = append(events, ev)
				}
			}
			if err != nil || len(events) != 2 {
				t.Fatalf("events %v, %v", events, err)
			}
			var snap struct {
				Incident *incident.Incident `json:"incident"`
			}
			if err := json.Unmarshal(events[len(events)-1].Data, &snap); err != nil {
				t.Fatal(err)
			}
			last, _ := json.Marshal(snap.Incident)
			answered, _ := json.Marshal(created.Incident)
			if !bytes.Equal(last, answered) {
				t.Fatalf("the last event's snapshot is not the answered incident:\n got %s\nwant %s", last, answered)
			}
		})
	}
}

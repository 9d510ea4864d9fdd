package incidentapi

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/incident"
)

// Outside Sety's API (a host's own encoder, json.Marshal) an answer, with
// kept JSON or without, encodes as the incident does, HTML escaping
// included.
func TestAnswerMarshalsAsTheIncident(t *testing.T) {
	inc := &incident.Incident{ID: "inc_a1b2c3d4e5f6g7h8", Title: "<b>Fire</b> & smoke",
		SLA: &incident.SLA{AssignTargetSeconds: 90, AssignBy: clock.At(time.Date(2026, 3, 10, 14, 23, 35, 0, time.UTC)), State: incident.SLAOnTrack}}
	want, err := json.Marshal(struct {
		Incident *incident.Incident `json:"incident"`
	}{inc})
	if err != nil {
		t.Fatal(err)
	}
	plain := newEncodedIncidents().response(inc, incident.Version{}) // a store that keeps no shared copies
	if _, b, _ := plain.PreEncodedJSON(); b != nil {
		t.Fatal("an answer read with no version carries kept JSON")
	}
	body, err := encodeResponse(plain)
	if err != nil {
		t.Fatal(err)
	}
	kept := IncidentResponse{Incident: inc, encoded: &encodedIncident{body: body}}
	for name, r := range map[string]IncidentResponse{"nothing kept": plain, "kept": kept} {
		got, err := json.Marshal(r)
		if err != nil || string(got) != string(want) {
			t.Errorf("%s: json.Marshal gave %s %v, want %s", name, got, err, want)
		}
	}
}

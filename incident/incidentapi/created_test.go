package incidentapi

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/httpapi"
)

// A create's answer built around the incident's JSON is what encoding the
// answer gives, in Sety's API (PreEncodedJSON) and outside it (json.Marshal,
// HTML escaping included); without the JSON it is encoded as any body.
func TestCreatedAnswerIsItsEncoding(t *testing.T) {
	inc := &incident.Incident{ID: "inc_a1b2c3d4e5f6g7h8", Title: "<b>Fire</b> & smoke \u2028 ☎",
		SLA: &incident.SLA{AssignTargetSeconds: 90, AssignBy: clock.At(time.Date(2026, 3, 10, 14, 23, 35, 0, time.UTC)), State: incident.SLAOnTrack}}
	doc, err := incident.Encode(inc)
	if err != nil {
		t.Fatal(err)
	}
	for _, idempotent := range []bool{false, true} {
		plain := plainCreated{Incident: inc, Idempotent: idempotent}
		want, err := httpapi.EncodeJSON(plain)
		if err != nil {
			t.Fatal(err)
		}
		r := createdResponse(inc, doc, idempotent)
		head, body, tail := r.PreEncodedJSON()
		if got := slices.Concat(head, body, tail); !bytes.Equal(got, want) {
			t.Errorf("idempotent=%v: PreEncodedJSON\n%s\nwant\n%s", idempotent, got, want)
		}
		wantMarshal, _ := json.Marshal(plain)
		for name, r := range map[string]CreateIncidentResponse{"with JSON": r, "without": createdResponse(inc, nil, idempotent)} {
			if got, err := json.Marshal(r); err != nil || !bytes.Equal(got, wantMarshal) {
				t.Errorf("idempotent=%v, %s: json.Marshal gave %s %v, want %s", idempotent, name, got, err, wantMarshal)
			}
		}
	}
	if _, body, _ := createdResponse(inc, nil, false).PreEncodedJSON(); body != nil {
		t.Error("an answer without the incident's JSON carries some")
	}
}

// A create's answer is written around the incident's JSON as the service
// encoded it, not from a copy: the answer's only allocation is its small
// reference to that JSON.
func TestCreatedAnswerSharesTheIncidentsJSON(t *testing.T) {
	doc, err := incident.Encode(&incident.Incident{ID: "inc_a1b2c3d4e5f6g7h8", Title: "Fire"})
	if err != nil {
		t.Fatal(err)
	}
	var r CreateIncidentResponse
	if allocs := testing.AllocsPerRun(100, func() { r = createdResponse(nil, doc, false) }); allocs > 1 {
		t.Errorf("createdResponse allocates %v times, want at most once", allocs)
	}
	if _, body, _ := r.PreEncodedJSON(); len(body) == 0 || &body[0] != &doc[0] {
		t.Error("the answer's JSON is a copy of the incident's")
	}
}

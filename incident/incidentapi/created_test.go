package incidentapi

import (
	"bytes"
	"encoding/json"
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
		if got := r.PreEncodedJSON(); !bytes.Equal(got, want) {
			t.Errorf("idempotent=%v: PreEncodedJSON\n%s\nwant\n%s", idempotent, got, want)
		}
		wantMarshal, _ := json.Marshal(plain)
		for name, r := range map[string]CreateIncidentResponse{"with JSON": r, "without": createdResponse(inc, nil, idempotent)} {
			if got, err := json.Marshal(r); err != nil || !bytes.Equal(got, wantMarshal) {
				t.Errorf("idempotent=%v, %s: json.Marshal gave %s %v, want %s", idempotent, name, got, err, wantMarshal)
			}
		}
	}
	if createdResponse(inc, nil, false).PreEncodedJSON() != nil {
		t.Error("an answer without the incident's JSON carries some")
	}
}

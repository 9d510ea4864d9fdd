package incidentapi

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/sety-io/sety/incident"
)

// createdJSON is the incident's JSON that the service encoded once for
// its event and its store (incident.Service.CreateEncoded): a create's
// answer is written around it, not encoded again, nor copied into a
// buffer of its own (1.4 KB a create).
type createdJSON struct{ doc []byte }

// What httpapi.EncodeJSON writes around an incident's JSON for a create's
// answer: incident.Encode is encoding/json without HTML escaping, as
// EncodeJSON is. Written, never changed.
var (
	createdHead = []byte(`{"incident":`)
	createdTail = [2][]byte{[]byte(`,"idempotent":false}` + "\n"), []byte(`,"idempotent":true}` + "\n")}
)

// createdResponse is the body of a create's answer; encoded, when not
// nil, is inc's JSON as incident.Encode writes it.
func createdResponse(inc *incident.Incident, encoded []byte, idempotent bool) CreateIncidentResponse {
	out := CreateIncidentResponse{Incident: inc, Idempotent: idempotent}
	if encoded != nil {
		out.encoded = &createdJSON{doc: encoded}
	}
	return out
}

// plainCreated is CreateIncidentResponse without its methods, encoded
// field by field.
type plainCreated CreateIncidentResponse

// PreEncodedJSON is the answer's JSON when the create had it at hand (with
// the encoder's newline): Sety's API writes it as it is where the host's
// JSON format writes the same bytes (httpapi.PreEncoded).
func (r CreateIncidentResponse) PreEncodedJSON() (head, body, tail []byte) {
	if r.encoded == nil {
		return nil, nil, nil
	}
	tail = createdTail[0]
	if r.Idempotent {
		tail = createdTail[1]
	}
	return createdHead, r.encoded.doc, tail
}

// MarshalJSON gives the JSON the create had at hand, or else encodes the
// answer: for encoders other than Sety's API's own (which writes
// PreEncodedJSON as it is). Such an encoder compacts the bytes and escapes
// them as it is set to, so its output is the same as without the method.
func (r CreateIncidentResponse) MarshalJSON() ([]byte, error) {
	if head, body, tail := r.PreEncodedJSON(); body != nil {
		return slices.Concat(head, body, bytes.TrimSuffix(tail, []byte("\n"))), nil
	}
	return json.Marshal(plainCreated(r))
}

package incidentapi

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/sety-io/sety/incident"
)

// createdJSON is the JSON of a create's answer, built around the
// incident's JSON that the service encoded once for its event and its
// store (incident.Service.CreateEncoded): a create's answer does not
// encode the incident again.
type createdJSON struct{ body []byte }

// createdResponse is the body of a create's answer; encoded, when not
// nil, is inc's JSON as incident.Encode writes it.
func createdResponse(inc *incident.Incident, encoded []byte, idempotent bool) CreateIncidentResponse {
	out := CreateIncidentResponse{Incident: inc, Idempotent: idempotent}
	if encoded == nil {
		return out
	}
	// What httpapi.EncodeJSON writes for out: incident.Encode is
	// encoding/json without HTML escaping, as EncodeJSON is.
	const head, mid, tail = `{"incident":`, `,"idempotent":`, "}\n"
	b := make([]byte, 0, len(head)+len(encoded)+len(mid)+len("false")+len(tail))
	b = append(append(b, head...), encoded...)
	b = strconv.AppendBool(append(b, mid...), idempotent)
	out.encoded = &createdJSON{body: append(b, tail...)}
	return out
}

// plainCreated is CreateIncidentResponse without its methods, encoded
// field by field.
type plainCreated CreateIncidentResponse

// PreEncodedJSON is the answer's JSON when the create had it at hand (with
// the encoder's newline): Sety's API writes it as it is where the host's
// JSON format writes the same bytes (httpapi.PreEncoded).
func (r CreateIncidentResponse) PreEncodedJSON() []byte {
	if r.encoded == nil {
		return nil
	}
	return r.encoded.body
}

// MarshalJSON gives the JSON the create had at hand, or else encodes the
// answer: for encoders other than Sety's API's own (which writes
// PreEncodedJSON as it is). Such an encoder compacts the bytes and escapes
// them as it is set to, so its output is the same as without the method.
func (r CreateIncidentResponse) MarshalJSON() ([]byte, error) {
	if b := r.PreEncodedJSON(); b != nil {
		return bytes.TrimSuffix(b, []byte("\n")), nil
	}
	return json.Marshal(plainCreated(r))
}

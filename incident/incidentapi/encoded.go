package incidentapi

import (
	"bytes"
	"sync"

	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/httpapi"
)

// maxEncoded bounds the encoded answers kept: one per incident, about 1.5 KB
// each (beside the decoded incident the store keeps for each version).
const maxEncoded = 4096

// encodedIncidents keeps, per incident, the JSON of the last get-incident
// answer: the version of the incident it encodes, the SLA fields it showed
// (worked out from the clock at each read) and the bytes. A get whose
// incident has the same version and the same SLA fields now answers with
// those bytes instead of encoding the incident again (a tenth of a get's
// CPU). Only the stored version and the clock decide what a get shows, and
// both are compared, so the bytes are always what encoding would give.
type encodedIncidents struct {
	mu   sync.Mutex
	byID map[string]*encodedIncident
}

type encodedIncident struct {
	version incident.Version
	sla     incident.SLA
	body    []byte
}

func newEncodedIncidents() *encodedIncidents {
	return &encodedIncidents{byID: map[string]*encodedIncident{}}
}

// response is the body of get-incident for inc, read as version: with the
// JSON kept for it when version and the SLA fields match, else with the
// JSON encoded now (and kept). A zero version (a store that keeps no
// shared copies) is encoded by huma as any other body.
func (c *encodedIncidents) response(inc *incident.Incident, version incident.Version) IncidentResponse {
	out := IncidentResponse{Incident: inc}
	if version == (incident.Version{}) {
		return out
	}
	c.mu.Lock()
	kept, ok := c.byID[inc.ID]
	c.mu.Unlock()
	if ok && kept.version == version && sameSLA(kept.sla, inc.SLA) {
		out.encoded = kept
		return out
	}
	body, err := encodeResponse(out)
	if err != nil {
		return out // huma's own marshal reports it
	}
	e := &encodedIncident{version: version, body: body}
	if inc.SLA != nil {
		e.sla = *inc.SLA
	}
	c.mu.Lock()
	if _, ok := c.byID[inc.ID]; !ok && len(c.byID) >= maxEncoded {
		for old := range c.byID { // any one: reads are spread, not ordered
			delete(c.byID, old)
			break
		}
	}
	c.byID[inc.ID] = e
	c.mu.Unlock()
	out.encoded = e
	return out
}

// sameSLA reports whether the SLA fields kept show what sla shows. An
// incident without SLA keeps the zero SLA, which no incident with one has
// (its targets are positive).
func sameSLA(kept incident.SLA, sla *incident.SLA) bool {
	if sla == nil {
		return kept == incident.SLA{}
	}
	return kept.SameFigures(*sla)
}

// plainResponse is IncidentResponse without its methods, encoded field by
// field.
type plainResponse IncidentResponse

// encodeResponse encodes r as huma's JSON format does.
func encodeResponse(r IncidentResponse) ([]byte, error) { return httpapi.EncodeJSON(plainResponse(r)) }

// PreEncodedJSON is the JSON kept for the answer, if any (with the
// encoder's newline): Sety's API writes it as it is where the host's JSON
// format writes the same bytes (httpapi.PreEncoded).
func (r IncidentResponse) PreEncodedJSON() (head, body, tail []byte) {
	if r.encoded == nil {
		return nil, nil, nil
	}
	return nil, r.encoded.body, nil
}

// MarshalJSON gives the JSON kept for the answer, when there is one, or
// else encodes it: for encoders other than Sety's API's own (which writes
// PreEncodedJSON as it is). Such an encoder compacts the bytes and escapes
// them as it is set to, so its output is the same as without the method.
func (r IncidentResponse) MarshalJSON() ([]byte, error) {
	_, b, _ := r.PreEncodedJSON()
	if b == nil {
		var err error
		if b, err = encodeResponse(r); err != nil {
			return nil, err
		}
	}
	return bytes.TrimSuffix(b, []byte("\n")), nil
}

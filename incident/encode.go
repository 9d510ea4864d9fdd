package incident

import (
	"bytes"
	"fmt"
	"sync"
)

// A change encodes each state of its incident once. An event's data is
// the incident's JSON wrapped as {"incident":…}; the incident's JSON in
// the last event of a change is also what the store keeps for it
// (Effects.Encoded) and what a create answers with (Service.CreateEncoded),
// so a create no longer encodes its incident again for each of them.
//
// The JSON is encoding/json's without HTML escaping, as huma's default
// format writes it, so the same bytes serve the HTTP answer; it is written
// field by field (appendjson.go), not through reflection. Every reader
// of event data and of stored incidents decodes it as before (an escaped
// and an unescaped '<' are the same JSON string).

// eventHead and eventTail wrap an incident's JSON into an event's data,
// as encoding/json writes struct{ Incident *Incident `json:"incident"` }.
const (
	eventHead = `{"incident":`
	eventTail = `}`
)

// encoders reuses the buffers of encodeEvent.
var encoders = sync.Pool{New: func() any { return new([]byte) }}

// encodeEvent returns the data of an event about inc and, within it, inc's
// own JSON (Encode's bytes). They share memory: neither may be changed.
func encodeEvent(inc *Incident) (data, doc []byte, err error) {
	buf := encoders.Get().(*[]byte)
	defer encoders.Put(buf)
	b, err := appendIncident(append((*buf)[:0], eventHead...), inc)
	if err != nil {
		return nil, nil, fmt.Errorf("encode incident %s: %w", inc.ID, err)
	}
	data = append(b, eventTail...)
	*buf = data
	data = bytes.Clone(data)
	return data, data[len(eventHead) : len(data)-len(eventTail)], nil
}

// Encode returns inc's JSON as the service encodes it: encoding/json
// without HTML escaping, without a final newline.
func Encode(inc *Incident) ([]byte, error) {
	_, doc, err := encodeEvent(inc)
	return doc, err
}

// SameFigures reports whether s and o show the same figures: an answer
// encoded with one is the answer encoded with the other.
func (s SLA) SameFigures(o SLA) bool {
	return s.AssignTargetSeconds == o.AssignTargetSeconds && s.ArriveTargetSeconds == o.ArriveTargetSeconds &&
		s.AssignBy.Equal(o.AssignBy.Time) && s.ArriveBy.Equal(o.ArriveBy.Time) && s.State == o.State &&
		sameSeconds(s.TimeToAssignSeconds, o.TimeToAssignSeconds) && sameSeconds(s.TimeToArriveSeconds, o.TimeToArriveSeconds)
}

func sameSeconds(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

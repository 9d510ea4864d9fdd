package incident

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
)

// appendIncident appends inc's JSON exactly as encoding/json writes it with
// HTML escaping off (the format of every stored incident, event and
// answer), field by field instead of through reflection: a live create
// encodes its incident twice (incident.created, incident.dispatching),
// which through encoding/json was 12.5 µs of a create's CPU. The field
// order, null for nil pointers, slices and maps, sorted map keys, the
// string escapes and the float format are encoding/json's; the tests hold
// it to encoding/json's bytes for every change they make
// (export_test.go) and for hostile strings and numbers (appendjson_test.go).
// When a field is added to Incident or to a type it holds, add it here too:
// those tests fail until it is.
func appendIncident(b []byte, inc *Incident) ([]byte, error) {
	var err error
	b = append(b, `{"incident_id":`...)
	b = appendString(b, inc.ID)
	b = append(b, `,"idempotency_key":`...)
	b = appendOptional(b, inc.IdempotencyKey)
	b = append(b, `,"category":`...)
	b = appendString(b, string(inc.Category))
	b = append(b, `,"severity":`...)
	b = appendString(b, string(inc.Severity))
	b = append(b, `,"status":`...)
	b = appendString(b, string(inc.Status))
	b = append(b, `,"subject":{"name":`...)
	b = appendOptional(b, inc.Subject.Name)
	b = append(b, `,"phone":`...)
	b = appendOptional(b, inc.Subject.Phone)
	b = append(b, `,"email":`...)
	b = appendOptional(b, inc.Subject.Email)
	b = append(b, `,"reference":`...)
	b = appendOptional(b, inc.Subject.Reference)
	b = append(b, `,"metadata":`...)
	b = appendStringMap(b, inc.Subject.Metadata)
	b = append(b, `},"title":`...)
	b = appendString(b, inc.Title)
	b = append(b, `,"description":`...)
	b = appendOptional(b, inc.Description)
	b = append(b, `,"location":{"coordinates":`...)
	if b, err = appendPoint(b, inc.Location.Coordinates); err != nil {
		return nil, err
	}
	b = append(b, `,"address":`...)
	b = appendOptional(b, inc.Location.Address)
	b = append(b, `,"landmark":`...)
	b = appendOptional(b, inc.Location.Landmark)
	b = append(b, `},"resolution_outcome":`...)
	if inc.ResolutionOutcome == nil {
		b = append(b, "null"...)
	} else {
		b = appendString(b, string(*inc.ResolutionOutcome))
	}
	b = append(b, `,"resolution_notes":`...)
	b = appendOptional(b, inc.ResolutionNotes)
	b = append(b, `,"is_drill":`...)
	b = strconv.AppendBool(b, inc.IsDrill)
	b = append(b, `,"timeline":`...)
	b = appendTimeline(b, inc.Timeline)
	b = append(b, `,"sla":`...)
	if b, err = appendSLA(b, inc.SLA); err != nil {
		return nil, err
	}
	b = append(b, `,"responder":`...)
	if b, err = appendResponder(b, inc.Responder); err != nil {
		return nil, err
	}
	b = append(b, `,"created_at":`...)
	b = appendTime(b, inc.CreatedAt)
	b = append(b, `,"updated_at":`...)
	b = appendTime(b, inc.UpdatedAt)
	b = append(b, `,"resolved_at":`...)
	b = appendTime(b, inc.ResolvedAt)
	b = append(b, `,"cancelled_at":`...)
	b = appendTime(b, inc.CancelledAt)
	b = append(b, `,"cancel_reason_code":`...)
	if inc.CancelReasonCode == nil {
		b = append(b, "null"...)
	} else {
		b = appendString(b, string(*inc.CancelReasonCode))
	}
	b = append(b, `,"sequence":`...)
	b = strconv.AppendInt(b, inc.Sequence, 10)
	return append(b, '}'), nil
}

func appendTimeline(b []byte, timeline []IncidentTimelineEvent) []byte {
	if timeline == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, e := range timeline {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"status":`...)
		b = appendString(b, string(e.Status))
		b = append(b, `,"event":`...)
		b = appendString(b, string(e.Event))
		b = append(b, `,"message":`...)
		b = appendString(b, e.Message)
		b = append(b, `,"timestamp":`...)
		b = appendTime(b, e.Timestamp)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendSLA(b []byte, s *SLA) ([]byte, error) {
	if s == nil {
		return append(b, "null"...), nil
	}
	var err error
	b = append(b, `{"assign_target_seconds":`...)
	b = strconv.AppendInt(b, int64(s.AssignTargetSeconds), 10)
	b = append(b, `,"arrive_target_seconds":`...)
	b = strconv.AppendInt(b, int64(s.ArriveTargetSeconds), 10)
	b = append(b, `,"assign_by":`...)
	b = appendTime(b, s.AssignBy)
	b = append(b, `,"arrive_by":`...)
	b = appendTime(b, s.ArriveBy)
	b = append(b, `,"time_to_assign_seconds":`...)
	if b, err = appendOptionalFloat(b, s.TimeToAssignSeconds); err != nil {
		return nil, err
	}
	b = append(b, `,"time_to_arrive_seconds":`...)
	if b, err = appendOptionalFloat(b, s.TimeToArriveSeconds); err != nil {
		return nil, err
	}
	b = append(b, `,"state":`...)
	b = appendString(b, string(s.State))
	return append(b, '}'), nil
}

func appendResponder(b []byte, r *ResponderAssignment) ([]byte, error) {
	if r == nil {
		return append(b, "null"...), nil
	}
	var err error
	b = append(b, `{"responder_id":`...)
	b = appendString(b, r.ResponderID)
	b = append(b, `,"name":`...)
	b = appendString(b, r.Name)
	b = append(b, `,"phone":`...)
	b = appendOptional(b, r.Phone)
	b = append(b, `,"location":`...)
	if b, err = appendPoint(b, r.Location); err != nil {
		return nil, err
	}
	b = append(b, `,"distance_meters":`...)
	if b, err = appendFloat(b, r.DistanceMeters); err != nil {
		return nil, err
	}
	b = append(b, `,"eta_seconds":`...)
	if b, err = appendFloat(b, r.ETASeconds); err != nil {
		return nil, err
	}
	b = append(b, `,"assigned_at":`...)
	b = appendTime(b, r.AssignedAt)
	b = append(b, `,"arrived_at":`...)
	b = appendTime(b, r.ArrivedAt)
	return append(b, '}'), nil
}

// appendTime writes what clock.Time's MarshalJSON does.
func appendTime(b []byte, t clock.Time) []byte {
	if t.IsZero() {
		return append(b, "null"...)
	}
	b = clock.AppendLayout(append(b, '"'), t.Time)
	return append(b, '"')
}

func appendPoint(b []byte, p geo.Point) ([]byte, error) {
	b = append(b, '[')
	b, err := appendFloat(b, p[0])
	if err != nil {
		return nil, err
	}
	b = append(b, ',')
	if b, err = appendFloat(b, p[1]); err != nil {
		return nil, err
	}
	return append(b, ']'), nil
}

func appendOptionalFloat(b []byte, f *float64) ([]byte, error) {
	if f == nil {
		return append(b, "null"...), nil
	}
	return appendFloat(b, *f)
}

// appendFloat writes f as encoding/json writes a float64 (ES6's number to
// string: %f, or %e with an unpadded exponent below 1e-6 and from 1e21
// on), and refuses NaN and the infinities with encoding/json's error.
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, &json.UnsupportedValueError{Value: reflect.ValueOf(f), Str: strconv.FormatFloat(f, 'g', -1, 64)}
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

// appendStringMap writes m with its keys sorted, as encoding/json does.
func appendStringMap(b []byte, m map[string]string) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	var stack [16]string
	keys := stack[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendString(b, k), ':')
		b = appendString(b, m[k])
	}
	return append(b, '}')
}

func appendOptional(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendString(b, *s)
}

const hexDigits = "0123456789abcdef"

// appendString writes s quoted and escaped as encoding/json does without
// HTML escaping: '"', '\\' and the control characters escaped (\b, \f,
// \n, \r, \t by name, the others as \u00XX), invalid UTF-8 as \ufffd, and
// U+2028 and U+2029 as \u2028 and \u2029; everything else as it is.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

package incident_test

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/incident"
)

// hostileStrings are the strings encoding/json escapes or keeps in ways
// that are easy to get wrong: every ASCII byte, the characters HTML
// escaping would touch (kept: the service's JSON does not escape them),
// invalid UTF-8, U+2028 and U+2029, U+FFFD itself and runes of every
// length.
func hostileStrings() []string {
	var ascii strings.Builder
	for c := range 0x80 {
		ascii.WriteByte(byte(c))
	}
	return []string{"", ascii.String(), `<b>A</b> & "B" \ /`, "\xff\xfe", "a\xc3", "\xe2\x80\xa8 \u2028\u2029\u2027\u202a",
		"\ufffd", "é 中 😀 \U0010ffff", "\xed\xa0\x80", "tab\tnl\nnul\x00del\x7f", strings.Repeat("x", 5000)}
}

// fullIncident is an incident with every field set, its strings and
// numbers taken from s and f.
func fullIncident(s string, f float64, at time.Time) *incident.Incident {
	str := func() *string { return &s }
	outcome, reason := incident.Outcome(s), incident.CancelReason(s)
	ttA, ttR := f, -f
	ts := clock.At(at)
	return &incident.Incident{
		ID: s, IdempotencyKey: str(), Category: incident.Category(s), Severity: incident.Severity(s), Status: incident.Status(s),
		Subject: incident.Subject{Name: str(), Phone: str(), Email: str(), Reference: str(),
			Metadata: map[string]string{s: s, "b": s, "a": "", "A": "1", s + "z": "2"}},
		Title: s, Description: str(),
		Location:          incident.IncidentLocation{Coordinates: [2]float64{f, -f}, Address: str(), Landmark: str()},
		ResolutionOutcome: &outcome, ResolutionNotes: str(), IsDrill: true,
		Timeline: []incident.IncidentTimelineEvent{{Status: incident.Status(s), Event: incident.EventName(s), Message: s, Timestamp: ts},
			{Status: incident.Created, Event: incident.EventCreated, Message: "Incident received"}},
		SLA: &incident.SLA{AssignTargetSeconds: -90, ArriveTargetSeconds: math.MaxInt, AssignBy: ts, ArriveBy: ts,
			TimeToAssignSeconds: &ttA, TimeToArriveSeconds: &ttR, State: incident.SLAState(s)},
		Responder: &incident.ResponderAssignment{ResponderID: s, Name: s, Phone: str(), Location: [2]float64{-f, f},
			DistanceMeters: f, ETASeconds: f, AssignedAt: ts, ArrivedAt: ts},
		CreatedAt: ts, UpdatedAt: ts, ResolvedAt: ts, CancelledAt: ts, CancelReasonCode: &reason, Sequence: math.MinInt64,
	}
}

// The incident's JSON is written field by field (appendIncident); it must
// be encoding/json's byte for byte, the answers and event payloads of
// every reader are: for every field set and unset, hostile strings,
// numbers of every magnitude and times outside years 0–9999.
func TestAppendIncidentIsEncodingJSON(t *testing.T) {
	floats := []float64{0, math.Copysign(0, -1), 1, -1.5, 3.4219, 6.4281, 1e-6, 9.99999e-7, 1e-7, 1.5e-300, 5e-324,
		1e20, 1e21, 123456789012345678901234, math.MaxFloat64, math.SmallestNonzeroFloat64, 1840.2, 221, 0.1 + 0.2}
	times := []time.Time{start, time.Date(2026, 1, 2, 3, 4, 5, 999_999_999, time.FixedZone("x", 5*3600)),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)}
	var cases []*incident.Incident
	for i, s := range hostileStrings() {
		cases = append(cases, fullIncident(s, floats[i%len(floats)], times[i%len(times)]))
	}
	for i, f := range floats {
		cases = append(cases, fullIncident("x", f, times[i%len(times)]))
	}
	cases = append(cases, &incident.Incident{}, &incident.Incident{Timeline: []incident.IncidentTimelineEvent{}, Subject: incident.Subject{Metadata: map[string]string{}}})
	many := fullIncident("m", 1, start)
	for i := range 60 {
		many.Subject.Metadata["key_"+strconv.Itoa(i*7919%61)] = strconv.Itoa(i)
	}
	cases = append(cases, many)
	for _, inc := range cases {
		want, err := incident.EncodingJSON(inc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := incident.AppendIncident([]byte("prefix"), inc)
		if err != nil || !bytes.Equal(got, append([]byte("prefix"), want...)) {
			t.Fatalf("appendIncident:\n%s\nencoding/json:\n%s (%v)", got, want, err)
		}
		if enc, err := incident.Encode(inc); err != nil || !bytes.Equal(enc, want) {
			t.Fatalf("Encode:\n%s\nencoding/json:\n%s (%v)", enc, want, err)
		}
	}
}

// A number JSON cannot hold fails the encoding as it fails encoding/json's.
func TestAppendIncidentRefusesNaNAndInfinities(t *testing.T) {
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		inc := fullIncident("x", f, start)
		_, want := incident.EncodingJSON(inc)
		if _, err := incident.AppendIncident(nil, inc); err == nil || want == nil || err.Error() != want.Error() {
			t.Fatalf("%v: appendIncident's error %v, encoding/json's %v", f, err, want)
		}
		if _, err := incident.Encode(inc); err == nil {
			t.Fatalf("%v: Encode gave no error", f)
		}
	}
}

func FuzzAppendIncidentIsEncodingJSON(f *testing.F) {
	for i, s := range hostileStrings() {
		f.Add(s, float64(i)*1.37e-7, int64(i)*1e15)
	}
	f.Fuzz(func(t *testing.T, s string, x float64, nanos int64) {
		inc := fullIncident(s, x, time.Unix(0, nanos))
		want, wantErr := incident.EncodingJSON(inc)
		got, err := incident.AppendIncident(nil, inc)
		if (err == nil) != (wantErr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("appendIncident:\n%s (%v)\nencoding/json:\n%s (%v)", got, err, want, wantErr)
		}
	})
}

// BenchmarkEncode is the encoding of a queued live create's incident (the
// body bench/http.sh sends, in dispatching), field by field as the service
// writes it and through encoding/json as it did before:
//
//	go test ./incident -run '^$' -bench Encode -benchmem
func BenchmarkEncode(b *testing.B) {
	str := func(s string) *string { return &s }
	ts := clock.At(start)
	inc := &incident.Incident{ID: "inc_mxbehwv6zvmvxxjr", Category: incident.Vehicle, Severity: incident.High, Status: incident.Dispatching,
		Subject: incident.Subject{Name: str("Amaka Obi"), Phone: str("+2348012345678"), Email: str("amaka.obi@example.com"),
			Reference: str("TRIP-44821"), Metadata: map[string]string{"trip_id": "trp_9x2k4m", "vehicle_plate": "LND-482-KJ"}},
		Title: "Vehicle emergency reported by rider", Description: str("Rider reports the driver left the agreed route and stopped in an unlit street."),
		Location: incident.IncidentLocation{Coordinates: [2]float64{3.4219, 6.4281}, Address: str("22 Adeola Odeku Street, Victoria Island, Lagos"),
			Landmark: str("Opposite the filling station")},
		Timeline: []incident.IncidentTimelineEvent{{Status: incident.Created, Event: incident.EventCreated, Message: "Incident received", Timestamp: ts},
			{Status: incident.Dispatching, Event: incident.EventDispatching, Message: "No responder is available within the 50 km dispatch range: waiting for one", Timestamp: ts}},
		SLA:       &incident.SLA{AssignTargetSeconds: 90, ArriveTargetSeconds: 600, AssignBy: clock.At(start.Add(90 * time.Second)), ArriveBy: clock.At(start.Add(600 * time.Second)), State: incident.SLAOnTrack},
		CreatedAt: ts, UpdatedAt: ts, Sequence: 2,
	}
	for name, encode := range map[string]func(*incident.Incident) ([]byte, error){"appendIncident": incident.Encode, "encoding-json": incident.EncodingJSON} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := encode(inc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

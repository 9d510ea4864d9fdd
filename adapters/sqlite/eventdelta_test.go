package sqlite

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"
)

// A create's two events: the delta of the second against the first is
// small, and rebuilds it byte for byte.
func TestDeltaOfDispatchingAgainstCreated(t *testing.T) {
	created, dispatching := createdAndDispatching()
	d := deltaOf(created, dispatching)
	if d == nil {
		t.Fatal("no delta")
	}
	if len(d) > len(dispatching)/5 {
		t.Errorf("delta of %d bytes for an event of %d, want under a fifth", len(d), len(dispatching))
	}
	got, err := applyDelta(created, d)
	if err != nil || !bytes.Equal(got, dispatching) {
		t.Fatalf("rebuilt %q, %v; want %q", got, err, dispatching)
	}
}

// createdAndDispatching are the data of a create's two events.
func createdAndDispatching() (created, dispatching []byte) {
	created = []byte(`{"incident":{"incident_id":"inc_mxbehwv6zvmvxxjr","idempotency_key":null,"category":"vehicle","severity":"high","status":"created","subject":{"name":"Amaka Obi","phone":"+2348012345678","email":"amaka.obi@example.com","reference":"TRIP-44821","metadata":{"trip_id":"trp_9x2k4m"}},"title":"Vehicle emergency","description":null,"location":{"coordinates":[3.4219,6.4281],"address":"22 Adeola Odeku Street, Victoria Island, Lagos","landmark":null},"resolution_outcome":null,"resolution_notes":null,"is_drill":false,"timeline":[{"status":"created","event":"created","message":"Incident received","timestamp":"2026-12-06T05:28:25.506Z"}],"sla":{"assign_target_seconds":90,"arrive_target_seconds":600,"assign_by":"2026-12-06T05:29:55.506Z","arrive_by":"2026-12-06T05:38:25.506Z","time_to_assign_seconds":null,"time_to_arrive_seconds":null,"state":"on_track"},"responder":null,"created_at":"2026-12-06T05:28:25.506Z","updated_at":"2026-12-06T05:28:25.506Z","resolved_at":null,"cancelled_at":null}}`)
	dispatching = bytes.Replace(created, []byte(`"status":"created"`), []byte(`"status":"dispatching"`), 1)
	dispatching = bytes.Replace(dispatching, []byte(`"2026-12-06T05:28:25.506Z"}],`),
		[]byte(`"2026-12-06T05:28:25.506Z"},{"status":"dispatching","event":"dispatching","message":"Waiting for a responder: none is available within 30 km","timestamp":"2026-12-06T05:28:25.506Z"}],`), 1)
	return created, dispatching
}

// BenchmarkDeltaOf is the delta of a create's incident.dispatching against
// its incident.created, which every live create stores:
//
//	go test ./adapters/sqlite -run '^$' -bench DeltaOf -benchmem
func BenchmarkDeltaOf(b *testing.B) {
	created, dispatching := createdAndDispatching()
	b.SetBytes(int64(len(dispatching)))
	for b.Loop() {
		if deltaOf(created, dispatching) == nil {
			b.Fatal("no delta")
		}
	}
}

// Whatever the base and target (random edits of one another, unrelated,
// empty, multi-byte text), a delta, when there is one, rebuilds the target
// exactly.
func TestDeltaRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte(`{}[]":,abcdefé日本0123456789 nulltrue`)
	randomText := func(n int) []byte {
		b := make([]byte, 0, n)
		for len(b) < n {
			b = append(b, alphabet[r.IntN(len(alphabet))])
		}
		return b
	}
	found := 0
	for i := range 2000 {
		base := randomText(r.IntN(3000))
		target := append([]byte(nil), base...)
		for range r.IntN(12) { // insertions, deletions, replacements
			at := r.IntN(len(target) + 1)
			cut := min(len(target)-at, r.IntN(40))
			target = append(target[:at:at], append(randomText(r.IntN(60)), target[at+cut:]...)...)
		}
		if i%10 == 0 {
			target = randomText(r.IntN(500)) // unrelated
		}
		d := deltaOf(base, target)
		if d == nil {
			continue
		}
		found++
		if len(d) > len(target)/2 {
			t.Fatalf("delta of %d bytes for a target of %d", len(d), len(target))
		}
		got, err := applyDelta(base, d)
		if err != nil || !bytes.Equal(got, target) {
			t.Fatalf("case %d: rebuilt %d bytes (%v), want the %d of the target", i, len(got), err, len(target))
		}
	}
	if found < 1000 {
		t.Errorf("only %d of 2000 edited texts had a delta", found)
	}
}

// A delta that does not fit its base is an error, not a panic or a wrong
// answer.
func TestApplyDeltaRefusesDamage(t *testing.T) {
	base := []byte(strings.Repeat("the incident's JSON ", 20))
	target := append(append([]byte(nil), base[:200]...), []byte("and something new at its end")...)
	d := deltaOf(base, target)
	if d == nil {
		t.Fatal("no delta")
	}
	for name, bad := range map[string][]byte{
		"empty":         {},
		"truncated":     d[:len(d)-1],
		"longer":        append(append([]byte(nil), d...), 0x02, 'x'),
		"shorter base":  nil, // applied to half the base below
		"huge length":   {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"copy too far":  {0x10, 0x21, 0xff, 0x7f},
		"literal short": {0x10, 0x20, 'a'},
	} {
		b := base
		if bad == nil {
			bad, b = d, base[:100]
		}
		if got, err := applyDelta(b, bad); err == nil {
			t.Errorf("%s: rebuilt %q without an error", name, got)
		}
	}
}

func FuzzApplyDelta(f *testing.F) {
	base := []byte(strings.Repeat(`{"incident":{"status":"created"}}`, 8))
	f.Add(deltaOf(base, bytes.Replace(base, []byte("created"), []byte("dispatching"), 2)))
	f.Add([]byte{0x04, 0x05, 0x00})
	f.Fuzz(func(t *testing.T, delta []byte) {
		out, err := applyDelta(base, delta)
		if size, _ := binary.Uvarint(delta); err == nil && uint64(len(out)) != size {
			t.Fatalf("%d bytes from a delta that names %d", len(out), size)
		}
	})
}

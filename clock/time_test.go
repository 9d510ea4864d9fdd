package clock_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sety-io/sety/clock"
)

func TestTimeJSON(t *testing.T) {
	lagos := time.FixedZone("WAT", 3600)
	tests := []struct {
		in   clock.Time
		want string
	}{
		{clock.Time{}, "null"},
		{clock.At(time.Date(2026, 3, 10, 14, 22, 5, 412e6, time.UTC)), `"2026-03-10T14:22:05.412Z"`},
		{clock.At(time.Date(2026, 3, 10, 14, 22, 5, 0, time.UTC)), `"2026-03-10T14:22:05.000Z"`},
		{clock.At(time.Date(2026, 3, 10, 15, 22, 5, 7e6, lagos)), `"2026-03-10T14:22:05.007Z"`},
	}
	for _, tt := range tests {
		got, err := json.Marshal(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("Marshal(%v) = %s, want %s", tt.in, got, tt.want)
		}
		var back clock.Time
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
		if !back.Equal(tt.in.Time) {
			t.Errorf("round trip of %s = %v", got, back)
		}
	}
}

// The timestamps MarshalJSON and clock.Format write digit by digit are
// what time.Time's Format writes with Layout: every month and day
// boundary, leap days, the first and last millisecond of a second
// (truncated, never rounded), times in other zones, and years outside
// 0-9999 (written by time.Time's Format itself).
func TestTimeJSONIsTheLayout(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("WAT", 3600), time.FixedZone("NST", -(3*3600 + 1800))}
	var times []time.Time
	for _, year := range []int{0, 1, 999, 1970, 2000, 2024, 2026, 2100, 9999} {
		for month := time.January; month <= time.December; month++ {
			for _, day := range []int{1, 28, 29, 30, 31} {
				for _, ns := range []int{0, 1, 999_999, 1_000_000, 412_345_678, 999_999_999} {
					for _, z := range zones {
						times = append(times, time.Date(year, month, day, 23, 59, 59, ns, z))
					}
				}
			}
		}
	}
	times = append(times, time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 5e6, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC), time.Unix(0, 1).UTC(), time.Date(2026, 3, 10, 0, 30, 0, 0, time.FixedZone("x", 3600)))
	for _, tm := range times {
		got, err := clock.At(tm).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if want := `"` + tm.UTC().Format(clock.Layout) + `"`; string(got) != want {
			t.Fatalf("MarshalJSON(%v) = %s, want %s", tm, got, want)
		}
		if got, want := clock.Format(tm), tm.UTC().Format(clock.Layout); got != want {
			t.Fatalf("Format(%v) = %s, want %s", tm, got, want)
		}
	}
}

func TestFake(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := clock.NewFake(start)
	f.Advance(90 * time.Second)
	if got := f.Now(); !got.Equal(start.Add(90 * time.Second)) {
		t.Fatalf("Now = %v", got)
	}
	if got := clock.Stamp(func() time.Time { return start.Add(1234567) }); got.Nanosecond() != 1e6 {
		t.Fatalf("Stamp kept sub-millisecond detail: %v", got)
	}
}

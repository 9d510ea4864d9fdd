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

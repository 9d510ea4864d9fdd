package incident

import (
	"fmt"
	"testing"

	"github.com/sety-io/sety/auth"
)

// A queued create's timeline says the range as fmt's %.0f km (from 10 km)
// or %.1f km wrote it, without fmt.
func TestWaitingMessageSaysTheRange(t *testing.T) {
	for _, m := range []float64{50_000, 10_000, 9_999.9, 9_950, 9_949.9, 1_250, 500, 0, 123_456_789} {
		svc := NewService(nil, Config{DispatchRange: func(auth.Tenant, Category) float64 { return m }})
		want := fmt.Sprintf("No responder is available within the %.1f km dispatch range: waiting for one", m/1000)
		if m >= 10_000 {
			want = fmt.Sprintf("No responder is available within the %.0f km dispatch range: waiting for one", m/1000)
		}
		if got := svc.waitingMessage(&Incident{}); got != want {
			t.Errorf("%v m: %q, want %q", m, got, want)
		}
	}
}

// Every queued create says it: the message is its string's one
// allocation, even at the longest range a float formats to.
func TestWaitingMessageAllocatesItsStringOnly(t *testing.T) {
	svc := NewService(nil, Config{DispatchRange: func(auth.Tenant, Category) float64 { return 123_456_789 }})
	if allocs := testing.AllocsPerRun(100, func() { svc.waitingMessage(&Incident{}) }); allocs > 1 {
		t.Errorf("waitingMessage allocates %v times, want once", allocs)
	}
}

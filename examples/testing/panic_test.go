package rides_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/ids"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/setyerr"

	rides "github.com/sety-io/sety/examples/testing"
)

// setup wires the application code to Sety over memory.New(), with a fake
// clock and sequential ids so every run is identical.
func setup() (*rides.PanicButton, *memory.Store, *clock.Fake, error) {
	store := memory.New()
	clk := clock.NewFake(time.Date(2026, 3, 10, 14, 22, 5, 0, time.UTC))
	s, err := sety.New(store, sety.WithClock(clk.Now), sety.WithIDs(ids.Sequential()))
	if err != nil {
		return nil, nil, nil, err
	}
	org, err := s.Auth.CreateOrganization(context.Background(), "Acme Rides", auth.Growth)
	if err != nil {
		return nil, nil, nil, err
	}
	return &rides.PanicButton{Incidents: s.Incidents, Tenant: auth.Tenant{OrgID: org.ID, Env: auth.Live}}, store, clk, nil
}

func newButton(t *testing.T) (*rides.PanicButton, *memory.Store, *clock.Fake) {
	t.Helper()
	button, store, clk, err := setup()
	if err != nil {
		t.Fatal(err)
	}
	return button, store, clk
}

var ride = rides.Ride{ID: "R-30417", RiderName: "Chidinma Eze", RiderPhone: "+2348031234567", Plate: "KJA-318-XF", Lat: 6.4281, Lng: 3.4219}

func TestPressingTwiceMakesOneIncident(t *testing.T) {
	button, store, clk := newButton(t)
	ctx := context.Background()
	first, err := button.Press(ctx, ride)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(3 * time.Second)
	second, err := button.Press(ctx, ride)
	if err != nil {
		t.Fatal(err)
	}
	if first.ID != second.ID {
		t.Fatalf("two incidents for one ride: %s, %s", first.ID, second.ID)
	}
	if first.Severity != incident.High || first.Subject.Metadata["vehicle_plate"] != "KJA-318-XF" {
		t.Fatalf("incident %+v", first)
	}
	// One incident's events only: created, then dispatching (no responder
	// in this test's pool, so it waits for one).
	events, _ := store.OutboxReader().PendingEvents(ctx, 10)
	if len(events) != 2 || events[0].Type != incident.TypeCreated || events[1].Type != incident.TypeDispatching || events[1].SubjectID != first.ID {
		t.Fatalf("%d events, want incident.created and incident.dispatching of one incident", len(events))
	}
}

func TestRiderSafeCancelsOnce(t *testing.T) {
	button, _, _ := newButton(t)
	ctx := context.Background()
	inc, _ := button.Press(ctx, ride)
	if err := button.RiderSafe(ctx, inc.ID); err != nil {
		t.Fatal(err)
	}
	if err := button.RiderSafe(ctx, inc.ID); !setyerr.Is(err, setyerr.Conflict) {
		t.Fatalf("second RiderSafe: %v, want Conflict", err)
	}
}

func TestBadCoordinatesAreRejected(t *testing.T) {
	button, _, _ := newButton(t)
	bad := ride
	bad.Lat = 123
	if _, err := button.Press(context.Background(), bad); !setyerr.Is(err, setyerr.Invalid) {
		t.Fatalf("err = %v, want Invalid", err)
	}
}

func ExamplePanicButton_Press() {
	button, _, _, err := setup()
	if err != nil {
		fmt.Println(err)
		return
	}
	inc, err := button.Press(context.Background(), ride)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(inc.ID, inc.Category, inc.Severity, inc.Status, inc.CreatedAt.Format(clock.Layout))
	// Output: inc_0000000000000002 sos high dispatching 2026-03-10T14:22:05.000Z
}

// Package rides (in examples/testing) shows how an application that embeds Sety tests its own
// code against the in-memory adapter: no database, no network, a fake clock
// and predictable ids, and the same behaviour as SQLite because both
// adapters pass one conformance suite.
//
// The application code here is a ride-hailing panic button: pressing it
// reports an SOS incident for the ride (once, however often it is pressed),
// and the rider can say they are safe.
package rides

import (
	"context"
	"fmt"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
)

// Ride is the application's own model.
type Ride struct {
	ID         string
	RiderName  string
	RiderPhone string
	Plate      string
	Lat, Lng   float64
}

// PanicButton turns rider actions into Sety incidents.
type PanicButton struct {
	Incidents *incident.Service
	Tenant    auth.Tenant
}

// Press reports an SOS for the ride. The ride id is the idempotency key, so
// a rider hammering the button (or a retried request) makes one incident.
func (p *PanicButton) Press(ctx context.Context, r Ride) (*incident.Incident, error) {
	name, phone := r.RiderName, r.RiderPhone
	inc, _, err := p.Incidents.Create(ctx, p.Tenant, incident.CreateIncidentRequest{
		Category:       incident.SOS,
		IdempotencyKey: "ride_" + r.ID,
		Location:       incident.Location{Coordinates: geo.NewPoint(r.Lat, r.Lng)},
		Subject: &incident.Subject{
			Name: &name, Phone: &phone, Reference: &r.ID,
			Metadata: map[string]string{"vehicle_plate": r.Plate},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("panic button for ride %s: %w", r.ID, err)
	}
	return inc, nil
}

// RiderSafe cancels the ride's incident because the rider confirmed they
// are safe.
func (p *PanicButton) RiderSafe(ctx context.Context, incidentID string) error {
	_, err := p.Incidents.Cancel(ctx, p.Tenant, incidentID, incident.CancelIncidentRequest{Reason: "rider confirmed safe in app"})
	return err
}

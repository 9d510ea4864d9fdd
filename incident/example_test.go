package incident_test

import (
	"context"
	"fmt"

	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/ids"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
)

type printer struct{}

// Notify prints each incident event's decoded payload.
func (printer) Notify(_ context.Context, events []outbox.Event) {
	for _, ev := range events {
		inc, err := incident.EventPayload(ev)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(ev.Type, inc.ID, inc.Category, inc.Status, inc.OrgID, inc.Environment, inc.IsDrill)
	}
}

// An event's data is the incident right after the change; EventPayload
// decodes it, with the organization and environment the event carries.
func ExampleEventPayload() {
	store := memory.New()
	ctx := context.Background()
	svc := incident.NewService(store.IncidentStore(), incident.Config{NewID: ids.Sequential(), Notifier: printer{}})
	// The tenant's organization must exist, as for any store.
	_ = store.AuthStore().CreateOrganization(ctx, &auth.Organization{ID: "org_acme", Name: "Acme Rides", Plan: auth.Growth, Status: auth.Active})
	tenant := auth.Tenant{OrgID: "org_acme", Env: auth.Test}
	_, _, _ = svc.Create(ctx, tenant, incident.CreateIncidentRequest{
		Category: incident.SOS, Location: incident.Location{Coordinates: geo.NewPoint(3.3792, 6.5244)},
	})
	printer{}.Notify(ctx, []outbox.Event{{Type: "access.checked_in"}}) // another domain's event
	// Output:
	// incident.created inc_0000000000000001 sos created org_acme test true
	// ev.Type: "access.checked_in" is not an incident event
}

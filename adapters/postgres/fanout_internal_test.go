package postgres

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/internal/pgtest"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/webhook"
)

// A fan-out's page holds events of a tenant without endpoints, of one
// with an endpoint, and a ping of that endpoint. The fan-out takes them
// all (the cursor passes them), gives plan only the events of the tenant
// with the endpoint that fan out (not the ping, stored with its delivery),
// in log order, each with its subject and sequence and without its data
// (read when a delivery is sent), and inserts what plan made, once.
func TestFanOutPlansOnlyTheEventsOfTenantsWithEndpoints(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openWithOrg(t, pgtest.URL(t))
	hooked := addSecondOrg(t, db, "Hooked")
	endpoint := &webhook.Endpoint{ID: "we_0000000000000001", URL: "https://example.com/hooks", Events: []string{"*"}, Status: webhook.Enabled,
		CreatedAt: clock.At(fixtureTime), UpdatedAt: clock.At(fixtureTime), OrgID: hooked.OrgID, Environment: hooked.Env, Secret: "whsec_c2VjcmV0"}
	if err := db.WebhookStore().CreateEndpoint(ctx, endpoint); err != nil {
		t.Fatal(err)
	}
	event := func(id string, tenant auth.Tenant, sequence int64) outbox.Event {
		ev := fixtureEvent(id)
		ev.OrgID, ev.Environment, ev.SubjectID, ev.Sequence = tenant.OrgID, string(tenant.Env), "inc_"+string(tenant.OrgID[4]), sequence
		return ev
	}
	b := &pgx.Batch{}
	queueEvents(b, []outbox.Event{
		event("evt_01", fixtureTenant, 1), event("evt_02", hooked, 1), event("evt_03", fixtureTenant, 2), event("evt_04", hooked, 2),
	})
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		t.Fatal(err)
	}
	ping := event("evt_05", hooked, 3)
	ping.Type = "ping"
	if err := db.WebhookStore().AddDelivery(ctx, ping, &webhook.Delivery{ID: "whd_ping", EndpointID: endpoint.ID, EventID: ping.ID,
		EventType: ping.Type, Status: webhook.Pending, NextAttemptAt: clock.At(fixtureTime), CreatedAt: clock.At(fixtureTime),
		OrgID: hooked.OrgID, Environment: hooked.Env}); err != nil {
		t.Fatal(err)
	}
	var planned []outbox.Event
	plan := func(ev outbox.Event, endpoints []*webhook.Endpoint) []*webhook.Delivery {
		planned = append(planned, ev)
		var out []*webhook.Delivery
		for _, e := range endpoints {
			out = append(out, &webhook.Delivery{ID: "whd_" + ev.ID, EndpointID: e.ID, EventID: ev.ID, EventType: ev.Type, Status: webhook.Pending,
				NextAttemptAt: clock.At(ev.CreatedAt), CreatedAt: clock.At(ev.CreatedAt), OrgID: e.OrgID, Environment: e.Environment})
		}
		return out
	}
	taken, err := db.WebhookQueue().FanOut(ctx, 10, plan)
	if err != nil || taken != 5 {
		t.Fatalf("fan-out took %d events (%v), want 5", taken, err)
	}
	var got []string
	for _, ev := range planned {
		got = append(got, ev.ID)
		if ev.SubjectID != "inc_b" || ev.Position == 0 || ev.CreatedAt.IsZero() || ev.Type != "incident.created" || len(ev.Data) != 0 {
			t.Errorf("plan was given %+v", ev)
		}
	}
	if want := []string{"evt_02", "evt_04"}; !slices.Equal(got, want) {
		t.Fatalf("plan was given %v, want %v", got, want)
	}
	if planned[0].Sequence != 1 || planned[1].Sequence != 2 {
		t.Errorf("sequences %d, %d, want 1, 2", planned[0].Sequence, planned[1].Sequence)
	}
	deliveries, total, err := db.WebhookStore().ListDeliveries(ctx, hooked, endpoint.ID, "", 0, 10)
	if err != nil || total != 3 {
		t.Fatalf("%d deliveries (%v), want the ping's and 2", total, err)
	}
	for _, d := range deliveries {
		if d.EventID == "evt_01" || d.EventID == "evt_03" {
			t.Errorf("a delivery of another tenant's event: %+v", d)
		}
	}
	if taken, err := db.WebhookQueue().FanOut(ctx, 10, plan); err != nil || taken != 0 || len(planned) != 2 {
		t.Fatalf("a second fan-out took %d events (%v), planned %d in all", taken, err, len(planned))
	}
}

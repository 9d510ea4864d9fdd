package incident_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/ids"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
)

// CreateEncoded hands out the JSON the create stored for a new incident,
// live (queued) or drill: Encode's bytes for the incident it returns. A
// repeated idempotency key returns the existing incident without it, and
// so does a create whose SLA figures moved before it returned.
func TestCreateEncodedIsTheIncidentsJSON(t *testing.T) {
	clk := clock.NewFake(start)
	svc, _ := newService(t, clk)
	ctx := context.Background()
	for _, tenant := range []auth.Tenant{live, test} {
		key := "trip_" + string(tenant.Env)
		req := incident.CreateIncidentRequest{Category: incident.SOS, Title: `<b>A</b> & "B"`, IdempotencyKey: key, Location: lagos()}
		inc, encoded, created, err := svc.CreateEncoded(ctx, tenant, req)
		if err != nil || !created {
			t.Fatalf("%s: created %v, %v", tenant.Env, created, err)
		}
		want, err := incident.Encode(inc)
		if err != nil || encoded == nil || !bytes.Equal(encoded, want) {
			t.Fatalf("%s: encoded\n%s\nwant\n%s (%v)", tenant.Env, encoded, want, err)
		}
		again, encoded, created, err := svc.CreateEncoded(ctx, tenant, req)
		if err != nil || created || again.ID != inc.ID || encoded != nil {
			t.Fatalf("%s: a repeated key gave %s created=%v encoded=%s, %v", tenant.Env, again.ID, created, encoded, err)
		}
	}
}

// advancer moves its clock on when told of a commit: a create's SLA
// figures then move between its commit and its return.
type advancer struct {
	clk *clock.Fake
	by  time.Duration
}

func (a advancer) Notify(context.Context, []outbox.Event) { a.clk.Advance(a.by) }

func TestCreateEncodedIsNilWhenTheSLAMovedSinceTheCommit(t *testing.T) {
	clk := clock.NewFake(start)
	_, store := newService(t, clk)
	svc := incident.NewService(store.IncidentStore(), incident.Config{Now: clk.Now, NewID: ids.Sequential(), Notifier: advancer{clk, 10 * time.Minute}})
	inc, encoded, created, err := svc.CreateEncoded(context.Background(), live, incident.CreateIncidentRequest{Category: incident.SOS, Location: lagos()})
	if err != nil || !created {
		t.Fatalf("created %v, %v", created, err)
	}
	if inc.SLA.State != incident.SLABreached || encoded != nil {
		t.Fatalf("SLA %s, encoded %s: want breached and no JSON (it shows on_track)", inc.SLA.State, encoded)
	}
}

package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/sety-io/sety/access"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
	"github.com/sety-io/sety/webhook"
)

// TestCancelledContext checks that every port refuses a call whose context
// is already cancelled with an error that is context.Canceled (errors.Is),
// reads and writes alike, and that a refused write leaves nothing behind:
// a unit test on the memory adapter sees what the SQL adapters do when a
// request is abandoned.
func TestCancelledContext(t *testing.T, newStores NewStores, _ Features) {
	t.Parallel()
	s := seeded(newStores)(t)
	live := context.Background()
	cancelled, cancel := context.WithCancel(live)
	cancel()
	inc := newIncident(t, tenantA, base)
	ep := newEndpoint(t, tenantA)
	code := &access.AccessCode{ID: fixtureID(t, "acc"), Site: "lekki-gardens", ValidFrom: clock.At(base), ValidUntil: clock.At(base.Add(3600e9)),
		CreatedAt: clock.At(base), OrgID: tenantA.OrgID, Environment: tenantA.Env, Hash: []byte("hash of the code")}
	calls := []struct {
		name string
		call func(context.Context) error
	}{
		{"CreateOrganization", func(ctx context.Context) error {
			return s.AuthStore().CreateOrganization(ctx, &auth.Organization{ID: "org_cccccccccccccccc", Name: "C", Plan: auth.Growth,
				Status: auth.Active, CreatedAt: clock.At(base)})
		}},
		{"GetOrganization", func(ctx context.Context) error {
			_, err := s.AuthStore().GetOrganization(ctx, tenantA.OrgID)
			return err
		}},
		{"ListAPIKeys", func(ctx context.Context) error {
			_, _, err := s.AuthStore().ListAPIKeys(ctx, tenantA, 0, 10)
			return err
		}},
		{"PurgeSessions", func(ctx context.Context) error {
			_, err := s.AuthStore().PurgeSessions(ctx, base, 10)
			return err
		}},
		{"CreateIncident", func(ctx context.Context) error {
			_, _, err := s.IncidentStore().CreateIncident(ctx, inc, incident.Effects{Events: []outbox.Event{eventFor(t, incident.TypeCreated, inc)}})
			return err
		}},
		{"ListIncidents", func(ctx context.Context) error {
			_, _, err := s.IncidentStore().ListIncidents(ctx, tenantA, incident.Filter{Limit: 10})
			return err
		}},
		{"ListResponders", func(ctx context.Context) error {
			_, _, err := s.ResponderStore().ListResponders(ctx, tenantA, incident.ResponderFilter{Limit: 10})
			return err
		}},
		{"CreateEndpoint", func(ctx context.Context) error { return s.WebhookStore().CreateEndpoint(ctx, ep) }},
		{"ListEndpoints", func(ctx context.Context) error {
			_, _, err := s.WebhookStore().ListEndpoints(ctx, tenantA, 0, 10)
			return err
		}},
		{"CreateCode", func(ctx context.Context) error { return s.AccessStore().CreateCode(ctx, code, base) }},
		{"ListCodes", func(ctx context.Context) error {
			_, _, err := s.AccessStore().ListCodes(ctx, tenantA, access.CodeFilter{Limit: 10})
			return err
		}},
		{"EventsAfter", func(ctx context.Context) error {
			_, _, err := s.EventLog().EventsAfter(ctx, 0, outbox.Filter{}, 10)
			return err
		}},
		{"Head", func(ctx context.Context) error { _, err := s.EventLog().Head(ctx); return err }},
		{"Lease", func(ctx context.Context) error {
			_, err := s.IncidentStore().Lease(ctx, "sweep", "owner", base, base.Add(60e9))
			return err
		}},
		{"FanOut", func(ctx context.Context) error {
			_, err := s.WebhookQueue().FanOut(ctx, 10, func(outbox.Event, []*webhook.Endpoint) []*webhook.Delivery { return nil })
			return err
		}},
	}
	for _, c := range calls {
		if err := c.call(cancelled); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: err = %v, want context.Canceled", c.name, err)
		}
	}
	// Nothing the refused writes carried was stored.
	if _, err := s.AuthStore().GetOrganization(live, "org_cccccccccccccccc"); !setyerr.Is(err, setyerr.NotFound) {
		t.Errorf("organization after a cancelled create: %v, want NotFound", err)
	}
	if _, err := s.IncidentStore().GetIncident(live, tenantA, inc.ID); !setyerr.Is(err, setyerr.NotFound) {
		t.Errorf("incident after a cancelled create: %v, want NotFound", err)
	}
	if _, err := s.WebhookStore().GetEndpoint(live, tenantA, ep.ID); !setyerr.Is(err, setyerr.NotFound) {
		t.Errorf("endpoint after a cancelled create: %v, want NotFound", err)
	}
	if _, err := s.AccessStore().GetCode(live, tenantA, code.ID); !setyerr.Is(err, setyerr.NotFound) {
		t.Errorf("access code after a cancelled create: %v, want NotFound", err)
	}
	pending(t, s, 0)
}

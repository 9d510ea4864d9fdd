package sqlite

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
)

// Peeks from more goroutines than there are connections kept for them
// take turns: every one answers, and only for the incident's own tenant.
func TestPeekReadersServeMoreCallersThanConnections(t *testing.T) {
	ctx := context.Background()
	db := openTestWith(t, &Options{Synchronous: "NORMAL", Readers: 2})
	inc, ev := testIncident(1, "")
	if _, _, err := db.IncidentStore().CreateIncident(ctx, inc, incident.Effects{Events: []outbox.Event{ev}}); err != nil {
		t.Fatal(err)
	}
	peeker := db.IncidentStore().(incident.SharedReader)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				got, err := peeker.PeekIncident(ctx, testTenant, inc.ID)
				if err == nil && got.ID != inc.ID {
					err = errors.New("peeked " + got.ID)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if open := db.peek.open; open > 2 {
		t.Fatalf("%d connections open for peeks, want at most 2", open)
	}
	for _, other := range []auth.Tenant{{OrgID: "org_someoneelse0001", Env: auth.Live}, {OrgID: testTenant.OrgID, Env: auth.Test}} {
		if _, err := peeker.PeekIncident(ctx, other, inc.ID); !errors.Is(err, incident.ErrNotFound) {
			t.Fatalf("peek as %v: %v, want not found", other, err)
		}
	}
	db.Close()
	if _, err := peeker.PeekIncident(ctx, testTenant, inc.ID); err == nil {
		t.Fatal("a peek after Close answered")
	}
}

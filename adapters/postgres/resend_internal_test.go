package postgres

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/pgtest"
)

// A queued create's look may be sent once more after it went out on
// another connection: inTx runs a transaction aborted by a deadlock again,
// on whichever connection the pool gives it. The look sent the second
// time is prepared on its own connection, not named after the first one's
// statement, so the create goes through.
func TestQueuedCreateLookSentAgainOnAnotherConnection(t *testing.T) {
	ctx := context.Background()
	db := openWithOrg(t, pgtest.URL(t))
	look := newPoolLook(fixtureTenant, lagos, 5000)
	sent := &pgx.Batch{}
	look.queue(sent)

	first, err := db.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Release()
	if err := first.SendBatch(ctx, sent).Close(); err != nil {
		t.Fatalf("the look's first sending: %v", err)
	}
	// With the first connection held, the create's transaction runs on
	// another one, where the look's statement was never prepared.
	key := "resent"
	now := clock.At(fixtureTime)
	inc := &incident.Incident{ID: "inc_resentresentrese", IdempotencyKey: &key, Category: incident.SOS, Severity: incident.High,
		Status: incident.Dispatching, Title: "SOS alert", Location: incident.IncidentLocation{Coordinates: lagos},
		CreatedAt: now, UpdatedAt: now, OrgID: fixtureTenant.OrgID, Environment: fixtureTenant.Env, Sequence: 1}
	s := &incidentStore{db: db}
	if _, created, err := s.create(ctx, inc, incident.Effects{}, look); err != nil || !created {
		t.Fatalf("create with the look sent before: created %v, %v", created, err)
	}
}

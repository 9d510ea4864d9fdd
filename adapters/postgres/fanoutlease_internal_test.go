package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/sety-io/sety/internal/pgtest"
	"github.com/sety-io/sety/webhook"
)

// The fan-out's lease is one worker's at a time across instances, apart
// from the sweeps' leases; given up, the other worker takes it at once.
func TestFanOutLeaseIsOneWorkersAtATime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	a := openWithOrg(t, url)
	b, err := Open(ctx, url) // another instance
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	var qa, qb webhook.FanOutLeaser = &webhookQueue{db: a}, &webhookQueue{db: b}
	now, until := fixtureTime, fixtureTime.Add(3*time.Second)
	take := func(q webhook.FanOutLeaser, owner string, now, until time.Time, want bool) {
		t.Helper()
		if held, err := q.LeaseFanOut(ctx, owner, now, until); err != nil || held != want {
			t.Fatalf("%s: held %v, %v; want %v", owner, held, err, want)
		}
	}
	take(qa, "wkr_a", now, until, true)
	take(qb, "wkr_b", now, until, false)
	// The engine's sweep lease is another row.
	if held, err := b.IncidentStore().Lease(ctx, "sweep", "wkr_b", now, until); err != nil || !held {
		t.Fatalf("a sweep's lease beside the fan-out's: %v, %v", held, err)
	}
	take(qa, "wkr_a", now.Add(time.Second), until.Add(time.Second), true) // renewed
	take(qa, "wkr_a", now.Add(time.Second), now.Add(time.Second), true)   // given up: until now
	take(qb, "wkr_b", now.Add(time.Second), until.Add(time.Second), true)
}

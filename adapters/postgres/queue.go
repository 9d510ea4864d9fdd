package postgres

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
	"github.com/sety-io/sety/webhook"
)

// webhookQueue is the delivery workers' port; any number of workers in any
// number of instances share it.
type webhookQueue DB

// FanOut holds the fan-out lock (transaction-scoped): one fan-out at a
// time, in any instance, reads the pending events (its statements see
// everything the previous holder committed), inserts their deliveries and
// marks them published, and commits before the next starts. So each event
// is taken exactly once, and deliveries are made in commit order. A
// fan-out that finds nothing pending takes no lock: idle workers polling
// cost one index probe.
func (q *webhookQueue) FanOut(ctx context.Context, limit int, plan func(outbox.Event, []*webhook.Endpoint) []*webhook.Delivery) (int, error) {
	var waiting bool
	if err := q.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM outbox_events WHERE published_at IS NULL)`).Scan(&waiting); err != nil || !waiting {
		return 0, translate(err)
	}
	taken := 0
	err := (*DB)(q).inTx(ctx, func(tx *txn) error {
		taken = 0
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockFanOut); err != nil {
			return err
		}
		events, err := pendingEvents(ctx, tx, limit)
		if err != nil || len(events) == 0 {
			return err
		}
		byTenant := map[auth.Tenant][]*webhook.Endpoint{}
		positions := make([]int64, len(events))
		for i, ev := range events {
			tenant := auth.Tenant{OrgID: ev.OrgID, Env: auth.Environment(ev.Environment)}
			endpoints, ok := byTenant[tenant]
			if !ok {
				if endpoints, err = enabledEndpoints(ctx, tx, tenant); err != nil {
					return err
				}
				byTenant[tenant] = endpoints
			}
			for _, d := range plan(ev, endpoints) {
				queueDelivery(&tx.tail, d)
			}
			positions[i] = ev.Position
		}
		tx.later(`UPDATE outbox_events SET published_at = created_at WHERE position = ANY($1)`, positions)
		taken = len(events)
		return nil
	})
	return taken, err
}

// enabledEndpoints lists the tenant's enabled endpoints by id.
func enabledEndpoints(ctx context.Context, tx *txn, tenant auth.Tenant) ([]*webhook.Endpoint, error) {
	return queryAll(ctx, tx, scanEndpoint, selectEndpoint+` WHERE org_id = $1 AND environment = $2 AND status = 'enabled' ORDER BY id`,
		tenant.OrgID, string(tenant.Env))
}

// ClaimDeliveries is one statement: it picks the due deliveries with
// FOR UPDATE SKIP LOCKED, leases them and returns each with its endpoint
// and event. Concurrent claims, from any instance, skip the rows another
// is leasing; a row whose lease another claim committed meanwhile is
// checked again on its new version (READ COMMITTED re-evaluates the
// conditions of a locked row) and left out, its lease being unexpired. So
// a delivery is in at most one unexpired lease.
func (q *webhookQueue) ClaimDeliveries(ctx context.Context, owner string, now, until time.Time, limit int) ([]webhook.Job, error) {
	type claimed struct {
		seq int64
		job webhook.Job
	}
	rows, err := queryAll(ctx, q.pool, func(row rowScanner) (c claimed, err error) {
		c.job.Delivery, err = scanDelivery(then(func(delivery []any) (err error) {
			c.job.Endpoint, err = scanEndpoint(then(func(endpoint []any) (err error) {
				c.job.Event, err = scanEvent(then(func(event []any) error {
					return row.Scan(slices.Concat([]any{&c.seq}, delivery, endpoint, event)...)
				}))
				return err
			}))
			return err
		}))
		return c, err
	}, `WITH due AS (
			SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
			WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND (d.lease_until IS NULL OR d.lease_until <= $1) AND e.status = 'enabled'
			ORDER BY d.next_attempt_at, d.seq LIMIT $4
			FOR UPDATE OF d SKIP LOCKED)
		UPDATE webhook_deliveries d SET lease_owner = $2, lease_until = $3
		FROM due, webhook_endpoints e, outbox_events ev
		WHERE d.id = due.id AND e.id = d.endpoint_id AND ev.id = d.event_id
		RETURNING d.seq, `+deliveryColumns+`, `+prefixed("e.", endpointColumns)+`, `+prefixed("ev.", eventColumns)+`
`, at(now), owner, at(until), limit)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(rows, func(a, b claimed) int {
		if c := a.job.Delivery.NextAttemptAt.Compare(b.job.Delivery.NextAttemptAt.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	jobs := make([]webhook.Job, len(rows))
	for i, r := range rows {
		jobs[i] = r.job
	}
	return jobs, nil
}

// FinishAttempt locks the delivery's row and then its endpoint's (the order
// DeleteEndpoint takes them in too), checks the lease, and stores both.
func (q *webhookQueue) FinishAttempt(ctx context.Context, owner, id string, change func(*webhook.Delivery, *webhook.Endpoint) error) error {
	return (*DB)(q).inTx(ctx, func(tx *txn) error {
		var leaseOwner *string
		row := tx.QueryRow(ctx, `SELECT `+deliveryColumns+`, d.lease_owner FROM webhook_deliveries d WHERE d.id = $1`+forUpdate, id)
		d, err := scanDelivery(then(func(dest []any) error { return row.Scan(append(dest, &leaseOwner)...) }))
		if errors.Is(err, errNoRows) {
			return errDeliveryNotFound
		}
		if err != nil {
			return err
		}
		if leaseOwner == nil || *leaseOwner != owner {
			return setyerr.E(setyerr.Conflict, "lease of delivery %s lost", id)
		}
		e, err := scanEndpoint(tx.QueryRow(ctx, selectEndpoint+` WHERE id = $1`+forUpdate, d.EndpointID))
		if err != nil {
			return err
		}
		if err := change(d, e); err != nil {
			return err
		}
		tx.later(`UPDATE webhook_deliveries SET status = $1, attempts = $2, next_attempt_at = $3, last_attempt_at = $4,
			response_status = $5, response_body = $6, duration_ms = $7, error = $8, lease_owner = NULL, lease_until = NULL WHERE id = $9`,
			d.Status, d.Attempts, at(d.NextAttemptAt.Time), at(d.LastAttemptAt.Time), d.ResponseStatus, d.ResponseBody, d.DurationMs, d.Error, id)
		return updateEndpoint(tx, e)
	})
}

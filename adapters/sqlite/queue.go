package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
	"github.com/sety-io/sety/webhook"
)

// webhookQueue is the delivery worker's port. Every method runs in a write
// transaction (BEGIN IMMEDIATE), so processes sharing the file take turns:
// an event is fanned out once and a delivery is leased to one owner.
type webhookQueue DB

func (q *webhookQueue) FanOut(ctx context.Context, limit int, plan func(outbox.Event, []*webhook.Endpoint) []*webhook.Delivery) (int, error) {
	taken := 0
	err := (*DB)(q).inTx(ctx, func(tx *writeTx) error {
		events, err := pendingEvents(ctx, tx, limit)
		if err != nil {
			return err
		}
		byTenant := map[auth.Tenant][]*webhook.Endpoint{}
		for _, ev := range events {
			tenant := auth.Tenant{OrgID: ev.OrgID, Env: auth.Environment(ev.Environment)}
			endpoints, ok := byTenant[tenant]
			if !ok {
				if endpoints, err = enabledEndpoints(ctx, tx, tenant); err != nil {
					return err
				}
				byTenant[tenant] = endpoints
			}
			for _, d := range plan(ev, endpoints) {
				if err := insertDelivery(ctx, tx, d); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE outbox_events SET published_at = ? WHERE id = ?`, ev.CreatedAt.UnixMilli(), ev.ID); err != nil {
				return err
			}
			taken++
		}
		return nil
	})
	return taken, translate(err)
}

// enabledEndpoints lists the tenant's enabled endpoints by id.
func enabledEndpoints(ctx context.Context, tx *writeTx, tenant auth.Tenant) ([]*webhook.Endpoint, error) {
	return queryAll(ctx, tx, scanEndpoint, selectEndpoint+` WHERE org_id = ? AND environment = ? AND status = 'enabled' ORDER BY id`,
		tenant.OrgID, tenant.Env)
}

func (q *webhookQueue) ClaimDeliveries(ctx context.Context, owner string, now, until time.Time, limit int) ([]webhook.Job, error) {
	var jobs []webhook.Job
	err := (*DB)(q).inTx(ctx, func(tx *writeTx) error {
		due, err := queryAll(ctx, tx, scanDelivery, selectDelivery+` JOIN webhook_endpoints e ON e.id = d.endpoint_id
			WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND (d.lease_until IS NULL OR d.lease_until <= ?) AND e.status = 'enabled'
			ORDER BY d.next_attempt_at, d.rowid LIMIT ?`, now.UnixMilli(), now.UnixMilli(), limit)
		if err != nil {
			return err
		}
		for _, d := range due {
			if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET lease_owner = ?, lease_until = ? WHERE id = ?`, owner, until.UnixMilli(), d.ID); err != nil {
				return err
			}
			e, err := scanEndpoint(tx.QueryRowContext(ctx, selectEndpoint+` WHERE id = ?`, d.EndpointID))
			if err != nil {
				return err
			}
			ev, err := scanEvent(tx.QueryRowContext(ctx, selectEvent+` WHERE id = ?`, d.EventID))
			if err != nil {
				return err
			}
			jobs = append(jobs, webhook.Job{Delivery: d, Endpoint: e, Event: ev})
		}
		return nil
	})
	return jobs, translate(err)
}

func (q *webhookQueue) FinishAttempt(ctx context.Context, owner, id string, change func(*webhook.Delivery, *webhook.Endpoint) error) error {
	return translate((*DB)(q).inTx(ctx, func(tx *writeTx) error {
		var leaseOwner sql.NullString
		d, err := scanDelivery(tx.QueryRowContext(ctx, selectDelivery+` WHERE d.id = ?`, id))
		if errors.Is(err, errNoRows) {
			return errDeliveryNotFound
		}
		if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT lease_owner FROM webhook_deliveries WHERE id = ?`, id).Scan(&leaseOwner); err != nil {
			return err
		}
		if leaseOwner.String != owner {
			return setyerr.E(setyerr.Conflict, "lease of delivery %s lost", id)
		}
		e, err := scanEndpoint(tx.QueryRowContext(ctx, selectEndpoint+` WHERE id = ?`, d.EndpointID))
		if err != nil {
			return err
		}
		if err := change(d, e); err != nil {
			return err
		}
		var code sql.NullInt64
		if d.ResponseStatus != nil {
			code = sql.NullInt64{Int64: int64(*d.ResponseStatus), Valid: true}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_attempt_at = ?,
			response_status = ?, response_body = ?, duration_ms = ?, error = ?, lease_owner = NULL, lease_until = NULL WHERE id = ?`,
			d.Status, d.Attempts, millis(d.NextAttemptAt.Time), millis(d.LastAttemptAt.Time), code, d.ResponseBody, d.DurationMs, d.Error, id); err != nil {
			return err
		}
		return updateEndpoint(ctx, tx, e)
	}))
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"

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
	err := (*DB)(q).inTx(ctx, func(tx *sql.Tx) error {
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
func enabledEndpoints(ctx context.Context, tx *sql.Tx, tenant auth.Tenant) ([]*webhook.Endpoint, error) {
	return queryAll(ctx, tx, scanEndpoint, selectEndpoint+` WHERE org_id = ? AND environment = ? AND status = 'enabled' ORDER BY id`,
		tenant.OrgID, tenant.Env)
}

// claimable selects the ids of the deliveries a claim takes, in order, as
// webhook.Queue describes: the first of each line that is due, unleased and
// of an enabled, unpaused endpoint; at most an endpoint's room of each
// endpoint and a tenant's room of each tenant, taken round-robin. Its
// arguments: ?1 now, ?2 per endpoint, ?3 per tenant, ?4 probe after, ?5
// limit (caps of zero or less are none).
const claimable = `
WITH leased AS (
	SELECT endpoint_id, org_id, environment FROM webhook_deliveries WHERE lease_until > ?1
), endpoint_used AS (
	SELECT endpoint_id, count(*) AS n FROM leased GROUP BY endpoint_id
), tenant_used AS (
	SELECT org_id, environment, count(*) AS n FROM leased GROUP BY org_id, environment
), offers AS (
	SELECT d.rowid AS rid, d.id, d.org_id, d.environment, d.next_attempt_at,
		ROW_NUMBER() OVER (PARTITION BY d.endpoint_id ORDER BY d.next_attempt_at, d.rowid) AS r,
		CASE WHEN ?4 > 0 AND e.failures >= ?4 THEN 1 WHEN ?2 > 0 THEN ?2 ELSE 1 << 62 END - coalesce(u.n, 0) AS room
	FROM webhook_deliveries d
	JOIN webhook_endpoints e ON e.id = d.endpoint_id
	LEFT JOIN endpoint_used u ON u.endpoint_id = d.endpoint_id
	WHERE d.status = 'pending' AND d.next_attempt_at <= ?1 AND (d.lease_until IS NULL OR d.lease_until <= ?1)
		AND e.status = 'enabled' AND (e.paused_until IS NULL OR e.paused_until <= ?1)
		AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
			WHERE p.endpoint_id = d.endpoint_id AND p.subject_id = d.subject_id AND p.status = 'pending'
			AND (p.sequence < d.sequence OR p.sequence = d.sequence AND p.rowid < d.rowid OR p.lease_until > ?1))
), picks AS (
	SELECT o.id, o.rid, o.next_attempt_at,
		ROW_NUMBER() OVER (PARTITION BY o.org_id, o.environment ORDER BY o.r, o.next_attempt_at, o.rid) AS t,
		CASE WHEN ?3 > 0 THEN ?3 ELSE 1 << 62 END - coalesce(tu.n, 0) AS room
	FROM offers o LEFT JOIN tenant_used tu ON tu.org_id = o.org_id AND tu.environment = o.environment
	WHERE o.r <= o.room
)
SELECT id FROM picks WHERE t <= room ORDER BY t, next_attempt_at, rid LIMIT ?5`

func (q *webhookQueue) ClaimDeliveries(ctx context.Context, c webhook.Claim) ([]webhook.Job, error) {
	var jobs []webhook.Job
	err := (*DB)(q).inTx(ctx, func(tx *sql.Tx) error {
		ids, err := queryAll(ctx, tx, scanString, claimable, c.Now.UnixMilli(), c.PerEndpoint, c.PerTenant, c.ProbeAfter, c.Limit)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET lease_owner = ?, lease_until = ? WHERE id = ?`, c.Owner, c.Until.UnixMilli(), id); err != nil {
				return err
			}
			d, err := scanDelivery(tx.QueryRowContext(ctx, selectDelivery+` WHERE d.id = ?`, id))
			if err != nil {
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

func scanString(row rowScanner) (string, error) {
	var s string
	err := row.Scan(&s)
	return s, err
}

func (q *webhookQueue) FinishAttempt(ctx context.Context, owner, id string, change func(*webhook.Delivery, *webhook.Endpoint) error) error {
	return translate((*DB)(q).inTx(ctx, func(tx *sql.Tx) error {
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

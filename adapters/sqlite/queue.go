package sqlite

import (
	"context"
	"time"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/internal/groupcommit"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/webhook"
)

// webhookQueue is the delivery worker's port: the fan-out, the claims and
// the purges here, the rest written once (sqlstore.Queue). Every method
// that writes runs in a write transaction (BEGIN IMMEDIATE), so processes
// sharing the file take turns: an event is fanned out once and a delivery
// is leased to one owner.
type webhookQueue struct {
	sqlstore.Queue
	db *DB
}

func (q *webhookQueue) FanOut(ctx context.Context, limit int, plan func(outbox.Event, []*webhook.Endpoint) []*webhook.Delivery) (int, error) {
	taken := 0
	err := q.db.inTx(ctx, func(tx *writeTx) error {
		// The fan-out runs after every commit with events: its reads stay
		// prepared (parsing them anew cost more than running them).
		hot := tx.Hot()
		shared := querierOf[groupcommit.HotQueries]{hot}
		events, err := subscribedEnvelopes(ctx, hot, limit)
		if err != nil {
			return err
		}
		upTo := int64(0)
		if len(events) < limit {
			// Every unpublished event up to the head is read: those of
			// tenants without an endpoint are published with the others.
			if err := hot.QueryRowContext(ctx, headPosition).Scan(&upTo); err != nil {
				return err
			}
		}
		endpointsOf := sqlstore.EndpointsOf(func(t auth.Tenant) ([]*webhook.Endpoint, error) { return sqlstore.TenantEndpoints(ctx, shared, t) })
		for _, ev := range events {
			endpoints, err := endpointsOf(ev)
			if err != nil {
				return err
			}
			for _, d := range plan(ev, endpoints) {
				sqlstore.InsertDelivery(tx, d, ev.SubjectID, ev.Sequence)
			}
			taken++
		}
		if taken > 0 {
			upTo = max(upTo, events[taken-1].Position)
		}
		if upTo == 0 {
			return nil
		}
		// The events taken are the unpublished ones up to the last taken
		// or the head (read in position order, under the write lock): the
		// watermark moves past them all, one row, and no event's row is
		// written. (The update changes nothing when no event came since
		// the last fan-out.)
		_, err = tx.ExecContext(ctx, publishUpTo, upTo)
		return err
	})
	return taken, translate(err)
}

// publishUpTo moves the fan-out's watermark to position ?1: every event up
// to it is published (migrations/0020_fanout_watermark.sql).
const publishUpTo = `UPDATE outbox_fanout SET position = ?1 WHERE position < ?1`

// leasedNow counts the unexpired leases (?1 now) by endpoint, with the
// endpoint's tenant.
const leasedNow = `SELECT endpoint_id, org_id, environment, count(*) FROM webhook_deliveries INDEXED BY webhook_deliveries_leased
	WHERE lease_until > ?1 GROUP BY endpoint_id`

// endpointsWithWork lists the enabled, unpaused endpoints that have a
// delivery due at ?1, with their failures. It skips from one endpoint with
// pending deliveries to the next through the index, so a backlog costs one
// step, not a row each.
const endpointsWithWork = `WITH RECURSIVE pending (id) AS (
	SELECT (SELECT endpoint_id FROM webhook_deliveries WHERE status = 'pending' ORDER BY endpoint_id LIMIT 1)
	UNION ALL
	SELECT (SELECT endpoint_id FROM webhook_deliveries WHERE status = 'pending' AND endpoint_id > pending.id ORDER BY endpoint_id LIMIT 1)
	FROM pending WHERE pending.id IS NOT NULL
)
SELECT e.id, e.org_id, e.environment, e.failures FROM pending CROSS JOIN webhook_endpoints e ON e.id = pending.id
WHERE e.status = 'enabled' AND (e.paused_until IS NULL OR e.paused_until <= ?1)
	AND EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending' AND d.next_attempt_at <= ?1)`

// firstOfLines lists up to ?3 claimable deliveries of endpoint ?1 at ?2, by
// (due, rowid): due, unleased, and first of their line (no earlier pending
// delivery of the subject, none leased). It walks the endpoint's due
// deliveries in index order and stops at ?3.
const firstOfLines = `SELECT d.id, d.rowid, d.next_attempt_at FROM webhook_deliveries d INDEXED BY webhook_deliveries_pending
WHERE d.endpoint_id = ?1 AND d.status = 'pending' AND d.next_attempt_at <= ?2 AND (d.lease_until IS NULL OR d.lease_until <= ?2)
	AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p INDEXED BY webhook_deliveries_line
		WHERE p.endpoint_id = d.endpoint_id AND p.subject_id = d.subject_id AND p.status = 'pending'
		AND (p.sequence < d.sequence OR p.sequence = d.sequence AND p.rowid < d.rowid OR p.lease_until > ?2))
ORDER BY d.next_attempt_at, d.rowid LIMIT ?3`

// ClaimDeliveries reads the leases, the endpoints with due work, and the
// first deliveries of those with room; an endpoint's backlog costs nothing
// while it has all the attempts it may have.
func (q *webhookQueue) ClaimDeliveries(ctx context.Context, c webhook.Claim) ([]webhook.Job, error) {
	var jobs []webhook.Job
	now := c.Now.UnixMilli()
	err := q.db.inTx(ctx, func(tx *writeTx) error {
		hot := tx.Hot() // the claim runs at every attempt's end: its queries stay prepared
		perEndpoint, perTenant := map[string]int{}, map[auth.Tenant]int{}
		rows, err := hot.QueryContext(ctx, leasedNow, now)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			var t auth.Tenant
			var n int
			if err := rows.Scan(&id, &t.OrgID, &t.Env, &n); err != nil {
				rows.Close()
				return err
			}
			perEndpoint[id], perTenant[t] = n, perTenant[t]+n
		}
		if err := rows.Close(); err != nil {
			return err
		}
		type endpoint struct {
			id       string
			tenant   auth.Tenant
			failures int
		}
		endpoints, err := queryAll(ctx, hot, func(row rowScanner) (endpoint, error) {
			var e endpoint
			err := row.Scan(&e.id, &e.tenant.OrgID, &e.tenant.Env, &e.failures)
			return e, err
		}, endpointsWithWork, now)
		if err != nil {
			return err
		}
		failures := map[string]int{}
		endpointRoom := func(id string) int { return c.EndpointRoom(failures[id], perEndpoint[id]) }
		tenantRoom := func(t auth.Tenant) int { return c.TenantRoom(perTenant[t]) }
		var offers []webhook.Offer
		for _, e := range endpoints {
			failures[e.id] = e.failures
			n := min(endpointRoom(e.id), tenantRoom(e.tenant), c.Limit)
			if n <= 0 {
				continue
			}
			found, err := queryAll(ctx, hot, func(row rowScanner) (webhook.Offer, error) {
				o := webhook.Offer{EndpointID: e.id, Tenant: e.tenant}
				var due int64
				err := row.Scan(&o.DeliveryID, &o.Inserted, &due)
				o.Due = time.UnixMilli(due).UTC()
				return o, err
			}, firstOfLines, e.id, now, n)
			if err != nil {
				return err
			}
			offers = append(offers, found...)
		}
		for _, o := range c.Take(offers, endpointRoom, tenantRoom) {
			if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET lease_owner = ?, lease_until = ? WHERE id = ?`, c.Owner, c.Until.UnixMilli(), o.DeliveryID); err != nil {
				return err
			}
			d, err := sqlstore.ScanDelivery(hot.QueryRowContext(ctx, sqlstore.SelectDelivery+` WHERE d.id = ?`, o.DeliveryID))
			if err != nil {
				return err
			}
			e, err := sqlstore.ScanEndpoint(hot.QueryRowContext(ctx, sqlstore.SelectEndpoint+` WHERE id = ?`, d.EndpointID))
			if err != nil {
				return err
			}
			ev, err := scanEvent(hot.QueryRowContext(ctx, selectEvent+` WHERE e.id = ?`, d.EventID))
			if err != nil {
				return err
			}
			jobs = append(jobs, webhook.Job{Delivery: d, Endpoint: e, Event: ev})
		}
		return nil
	})
	return jobs, translate(err)
}

// PurgeDeliveries deletes one batch of finished deliveries, found by age
// through webhook_deliveries_finished.
func (q *webhookQueue) PurgeDeliveries(ctx context.Context, before, skippedBefore time.Time, limit int) (int, error) {
	var n int64
	err := q.db.inTx(ctx, func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE rowid IN (
			SELECT rowid FROM webhook_deliveries INDEXED BY webhook_deliveries_finished
			WHERE status <> 'pending' AND created_at < ?
				AND (status <> 'skipped' OR created_at < ?) AND (status = 'skipped' OR created_at < ?)
			LIMIT ?)`, later(before, skippedBefore).UnixMilli(), skippedBefore.UnixMilli(), before.UnixMilli(), limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), translate(err)
}

// PurgeEvents deletes one batch of published events that no delivery refers
// to, older than before, and never the newest event (max(position) is the
// log's head). An event that stays and keeps its data as a delta against
// one that goes (within deltaReach positions after it) is given its data in
// full first.
func (q *webhookQueue) PurgeEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	var n int
	err := q.db.inTx(ctx, func(tx *writeTx) error {
		scan := func(row rowScanner) (p int64, err error) { return p, row.Scan(&p) }
		// Events published at insert (pings), and those published before
		// the watermark, by age.
		doomed, err := queryAll(ctx, tx, scan, purgePublished, before.UnixMilli(), limit)
		if err != nil {
			return err
		}
		if len(doomed) < limit {
			fanned, err := queryAll(ctx, tx, scan, purgeFannedOut, before.UnixMilli(), limit-len(doomed))
			if err != nil {
				return err
			}
			doomed = append(doomed, fanned...)
		}
		gone := make(map[int64]bool, len(doomed))
		for _, p := range doomed {
			gone[p] = true
		}
		hot := tx.Hot()
		for _, p := range doomed {
			dependents, err := queryAll(ctx, hot, scanEvent, selectEvent+` WHERE e.position > ?1 AND e.position <= ?1 + ?2 AND e.base = ?1`, p, deltaReach)
			if err != nil {
				return err
			}
			for _, ev := range dependents {
				if gone[ev.Position] {
					continue
				}
				if _, err := tx.ExecContext(ctx, `UPDATE outbox_events SET data = ?, base = NULL, delta = NULL WHERE position = ?`,
					string(ev.Data), ev.Position); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM outbox_events WHERE position = ?`, p); err != nil {
				return err
			}
		}
		n = len(doomed)
		return nil
	})
	return n, translate(err)
}

// unreferenced ends a purge's query: not the log's head, and no delivery
// refers to the event.
const unreferenced = ` AND e.position < (SELECT max(position) FROM outbox_events)
	AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id) LIMIT ?2`

// purgePublished finds the events with a published_at (published at
// insert, or marked before the watermark) created before ?1, by age
// through outbox_published.
const purgePublished = `SELECT e.position FROM outbox_events e INDEXED BY outbox_published
	WHERE e.published_at IS NOT NULL AND e.created_at < ?1` + unreferenced

// purgeFannedOut finds the events the fan-out's watermark has passed,
// created before ?1, as a range of the key: from the oldest up to the first
// event created at or after ?1 (stragglers past it, older than an event
// before them, wait for a later purge, once the cut-off has passed that
// event too), so a purge reads the old events, never the whole log.
//
// The two ends are one bound (min), so the scan of the key stops at the
// nearer: SQLite reads a range through one upper bound and would only
// filter by the other.
const purgeFannedOut = `SELECT e.position FROM outbox_events e
	WHERE e.position < min((SELECT position FROM outbox_fanout) + 1,
			coalesce((SELECT f.position FROM outbox_events f WHERE f.created_at >= ?1 ORDER BY f.position LIMIT 1), 9223372036854775807))
		AND e.published_at IS NULL AND e.created_at < ?1` + unreferenced

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

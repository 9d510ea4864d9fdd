package postgres

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/webhook"
)

// webhookQueue is the delivery workers' port: the fan-out, the claims and
// the purges here, the rest written once (sqlstore.Queue). Any number of
// workers in any number of instances share it.
type webhookQueue struct {
	sqlstore.Queue
	db *DB
}

// FanOut runs in one transaction under the sequencer's lock: one fan-out
// (or sequencer run) at a time, in any instance. It positions the events
// committed since the last run (outbox_sequence), reads the events after
// the fan-out cursor in log order, inserts the deliveries of those that
// fan out (not pings, which are stored with theirs), moves the cursor past
// them, and commits before the next run starts. So each event is taken
// exactly once, and deliveries are made in log order. A fan-out that finds
// nothing to take takes no lock: idle workers polling cost one probe. One
// that finds the lock taken (another instance's fan-out, or a reader's
// sequencer run) rolls back and tries again a little later, instead of
// queueing on the lock with a pooled connection; it is done, having taken
// nothing, once two fan-outs that took everything have committed since
// its first try (migration 0023): another instance's fan-out took its
// events. The page is read from the log alone, and the events' rows only
// for tenants that have endpoints (plan makes nothing without one), never
// their payloads (fanOutPageOf).
func (q *webhookQueue) FanOut(ctx context.Context, limit int, plan func(outbox.Event, []*webhook.Endpoint) []*webhook.Delivery) (int, error) {
	var work bool
	if err := q.db.pool.QueryRow(ctx, `SELECT outbox_waiting_any() OR (`+headQuery+`) > `+fanOutCursor).Scan(&work); err != nil || !work {
		return 0, translate(err)
	}
	need := int64(-1)
	for try, wait := 1, time.Duration(0); ; try++ {
		// After a few tries it queues on the lock after all (PostgreSQL
		// grants it in turn), so a fan-out is never starved by readers'
		// runs taking the lock between its tries.
		taken, done, err := q.fanOut(ctx, limit, plan, try > fanOutTries)
		var busy busyFanOut
		if !errors.As(err, &busy) {
			return taken, err
		}
		// Another instance's fan-out or sequencer holds the lock. The
		// second fan-out to take everything after the first try's read
		// started after this call: it took every event committed before
		// (migration 0023), so this one has nothing left to do.
		if need < 0 {
			need = done + 2
		} else if done >= need {
			return 0, nil
		}
		// Try again once it may have ended, holding no connection
		// meanwhile.
		if err := pause(ctx, &wait); err != nil {
			return 0, err
		}
	}
}

// busyFanOut is fanOut's answer when another transaction holds the
// sequencer's lock: it did nothing; done of the fan-outs that took every
// event positioned had committed (outbox_cursors.runs).
type busyFanOut struct{ done int64 }

func (busyFanOut) Error() string { return "postgres: the sequencer's lock is taken" }

// fanOutTries is how many times FanOut tries the sequencer's lock before
// it waits for it: about 50 ms of pauses.
const fanOutTries = 5

// fanOut is one try of FanOut: if the sequencer's lock is free (or, with
// wait, once it is), it takes it for its transaction, positions, and fans
// out up to limit events; if not, it rolls back and returns busyFanOut
// with the count of fan-outs that took everything (done).
func (q *webhookQueue) fanOut(ctx context.Context, limit int, plan func(outbox.Event, []*webhook.Endpoint) []*webhook.Delivery, wait bool) (taken int, done int64, err error) {
	lock := `SELECT pg_try_advisory_xact_lock($1), (SELECT runs FROM outbox_cursors WHERE name = 'fan-out')`
	if wait {
		lock = `SELECT true, 0::bigint FROM pg_advisory_xact_lock($1)`
	}
	err = q.db.inTx(ctx, func(tx *txn) error {
		taken = 0
		var b pgx.Batch
		// One round trip: the sequencer's call finds the lock this
		// transaction took (advisory locks are re-entrant) and does not
		// wait; when the lock was taken by another, its answer and the
		// read after it are discarded.
		b.Queue(lock, lockSequencer)
		b.Queue(`SELECT outbox_sequence($1, false)`, sequenceBatch)
		// The read returns nothing unless this transaction holds the
		// lock (a try of a lock it holds succeeds: they are re-entrant;
		// an InitPlan, tried once): a fan-out that found the lock taken
		// (with two instances, a third of the tries) read a page of
		// events for nothing.
		b.Queue(fanOutPage, limit, lockSequencer)
		var (
			page       []outbox.Event
			positioned int64 // by the sequencer's run
		)
		br := tx.send(ctx, &b)
		err := func() error {
			var locked bool
			if err := br.QueryRow().Scan(&locked, &done); err != nil {
				return err
			}
			if !locked {
				return busyFanOut{done}
			}
			if err := br.QueryRow().Scan(&positioned); err != nil {
				return err
			}
			var err error
			page, err = scanRows(br, scanLogged)
			return err
		}()
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		// A batch not full took every event positioned, and a run not
		// full positioned every event committed: it counts for the
		// fan-outs that found the lock taken meanwhile (FanOut).
		all := 0
		if len(page) < limit && positioned < sequenceBatch {
			all = 1
		}
		if len(page) == 0 {
			tx.later(`UPDATE outbox_cursors SET runs = runs + 1 WHERE name = 'fan-out'`)
			return nil
		}
		if err := fanOutPageOf(ctx, tx, page, plan); err != nil {
			return err
		}
		tx.later(`UPDATE outbox_cursors SET position = $1, runs = runs + $2 WHERE name = 'fan-out'`, page[len(page)-1].Position, all)
		taken = len(page)
		return nil
	})
	return taken, done, err
}

// fanOutPage reads the page of the log a fan-out takes ($1 events at
// most, in log order) from the log alone: what decides whether an event
// fans out at all (its tenant) is there. The events' rows, and in them
// their payloads, are read only for tenants that have endpoints
// (fanOutPageOf). It returns rows only in a transaction that holds the
// sequencer's lock ($2).
const fanOutPage = `SELECT l.position, l.event_id, l.org_id, l.environment, l.type, l.created_at FROM outbox_log l
	WHERE l.position > ` + fanOutCursor + ` AND (SELECT pg_try_advisory_xact_lock($2)) ORDER BY l.position LIMIT $1`

// scanLogged reads an event of fanOutPage: no subject, sequence or data.
func scanLogged(row rowScanner) (ev outbox.Event, err error) {
	var created pgtype.Timestamptz
	err = row.Scan(&ev.Position, &ev.ID, &ev.OrgID, &ev.Environment, &ev.Type, &created)
	ev.CreatedAt = fromAt(created)
	return ev, err
}

// tenantsEndpoints lists every endpoint of the tenants $1 (organizations)
// and $2 (their environments, pairwise), enabled or not, each tenant's by
// id: a page's endpoints in one statement, however many tenants it holds.
// Each tenant's are a LATERAL subquery with its own ORDER BY, which
// PostgreSQL never flattens into a join: a look at webhook_endpoints'
// tenant index per tenant of the page. As a join (IN), it hashed the
// page's tenants and read every endpoint of the database (4,000
// endpoints: 1.5 ms for a page of 50 tenants).
var tenantsEndpoints = `SELECT ` + prefixed("w.", sqlstore.EndpointColumns) + ` FROM unnest($1::text[], $2::text[]) AS t (org_id, environment)
	CROSS JOIN LATERAL (` + sqlstore.SelectEndpoint + ` e WHERE e.org_id = t.org_id AND e.environment = t.environment ORDER BY e.id) w`

// fanOutPageOf inserts in tx the deliveries plan makes of the events of
// page: it reads the endpoints of the page's tenants (one statement), and
// only for the events of tenants that have any, their subjects, sequences
// and whether they fan out (not a ping, stored published), by id; plan is
// given each such event without its data, which a delivery reads when it
// is sent. A page of tenants without endpoints costs one look at the
// endpoints' index per tenant.
func fanOutPageOf(ctx context.Context, tx *txn, page []outbox.Event, plan func(outbox.Event, []*webhook.Endpoint) []*webhook.Delivery) error {
	byTenant := map[auth.Tenant][]*webhook.Endpoint{}
	var orgs, envs []string
	for _, ev := range page {
		t := auth.Tenant{OrgID: ev.OrgID, Env: auth.Environment(ev.Environment)}
		if _, ok := byTenant[t]; !ok {
			byTenant[t] = nil
			orgs, envs = append(orgs, t.OrgID), append(envs, string(t.Env))
		}
	}
	endpoints, err := queryAll(ctx, tx, func(row rowScanner) (*webhook.Endpoint, error) { return sqlstore.ScanEndpoint(row) }, tenantsEndpoints, orgs, envs)
	if err != nil {
		return err
	}
	for _, e := range endpoints {
		t := auth.Tenant{OrgID: e.OrgID, Env: e.Environment}
		byTenant[t] = append(byTenant[t], e)
	}
	var ids []string
	for _, ev := range page {
		if len(byTenant[auth.Tenant{OrgID: ev.OrgID, Env: auth.Environment(ev.Environment)}]) > 0 {
			ids = append(ids, ev.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	type line struct {
		subject  string
		sequence int64
		fanOut   bool
	}
	lines := make(map[string]line, len(ids))
	rows, err := tx.Query(ctx, `SELECT id, subject_id, sequence, published_at IS NULL FROM outbox_events WHERE id = ANY($1)`, ids)
	if err != nil {
		return err
	}
	if _, err := scanAll(rows, func(row rowScanner) (struct{}, error) {
		var id string
		var l line
		err := row.Scan(&id, &l.subject, &l.sequence, &l.fanOut)
		lines[id] = l
		return struct{}{}, err
	}); err != nil {
		return err
	}
	shared := sharedTx{t: tx}
	for _, ev := range page {
		l, ok := lines[ev.ID]
		if !ok || !l.fanOut {
			continue
		}
		ev.SubjectID, ev.Sequence = l.subject, l.sequence
		for _, d := range plan(ev, byTenant[auth.Tenant{OrgID: ev.OrgID, Env: auth.Environment(ev.Environment)}]) {
			sqlstore.InsertDelivery(shared, d, ev.SubjectID, ev.Sequence)
		}
	}
	return nil
}

// leasedNow counts the unexpired leases ($1 now) by endpoint, with the
// endpoint's tenant.
const leasedNow = `SELECT endpoint_id, org_id, environment, count(*) FROM webhook_deliveries
	WHERE lease_until > $1 GROUP BY endpoint_id, org_id, environment`

// endpointsWithWork lists the enabled, unpaused endpoints that have a
// delivery due at $1, with their failures. It skips from one endpoint with
// pending deliveries to the next through the index, so a backlog costs one
// step, not a row each.
const endpointsWithWork = `WITH RECURSIVE pending (id) AS (
	(SELECT endpoint_id FROM webhook_deliveries WHERE status = 'pending' ORDER BY endpoint_id LIMIT 1)
	UNION ALL
	SELECT (SELECT endpoint_id FROM webhook_deliveries WHERE status = 'pending' AND endpoint_id > pending.id ORDER BY endpoint_id LIMIT 1)
	FROM pending WHERE pending.id IS NOT NULL
)
SELECT e.id, e.org_id, e.environment, e.failures FROM pending JOIN webhook_endpoints e ON e.id = pending.id
WHERE e.status = 'enabled' AND (e.paused_until IS NULL OR e.paused_until <= $1)
	AND EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending' AND d.next_attempt_at <= $1)`

// firstOfLines lists up to $3 claimable deliveries of endpoint $1 at $2, by
// (due, seq): due, unleased, and first of their line (no earlier pending
// delivery of the subject, none leased). It walks the endpoint's due
// deliveries in index order and stops at $3.
const firstOfLines = `SELECT d.id, d.seq, d.next_attempt_at FROM webhook_deliveries d
WHERE d.endpoint_id = $1 AND d.status = 'pending' AND d.next_attempt_at <= $2 AND (d.lease_until IS NULL OR d.lease_until <= $2)
	AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
		WHERE p.endpoint_id = d.endpoint_id AND p.subject_id = d.subject_id AND p.status = 'pending'
		AND (p.sequence < d.sequence OR p.sequence = d.sequence AND p.seq < d.seq OR p.lease_until > $2))
ORDER BY d.next_attempt_at, d.seq LIMIT $3`

// ClaimDeliveries holds the claim lock (transaction-scoped): one claim at
// a time, in any instance, reads the leases every claim before it
// committed, the endpoints with due work, and the first deliveries of
// those with room (one batch: one round trip), leases what webhook.Claim.Take
// picks, and commits before the next claim starts. So the caps and the
// lines hold across instances, and a delivery is in at most one unexpired
// lease. The lock is held for a few statements; FinishAttempt does not
// take it. A claim that finds nothing due takes no lock: idle workers
// polling cost one index probe.
func (q *webhookQueue) ClaimDeliveries(ctx context.Context, c webhook.Claim) ([]webhook.Job, error) {
	var due bool
	if err := q.db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1)`,
		at(c.Now)).Scan(&due); err != nil || !due {
		return nil, translate(err)
	}
	var jobs []webhook.Job
	err := q.db.inTx(ctx, func(tx *txn) error {
		jobs = nil
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockClaim); err != nil {
			return err
		}
		perEndpoint, perTenant := map[string]int{}, map[auth.Tenant]int{}
		type used struct {
			endpoint string
			tenant   auth.Tenant
			n        int64
		}
		leases, err := queryAll(ctx, tx, func(row rowScanner) (u used, err error) {
			var env string
			err = row.Scan(&u.endpoint, &u.tenant.OrgID, &env, &u.n)
			u.tenant.Env = auth.Environment(env)
			return u, err
		}, leasedNow, at(c.Now))
		if err != nil {
			return err
		}
		for _, u := range leases {
			perEndpoint[u.endpoint] += int(u.n)
			perTenant[u.tenant] += int(u.n)
		}
		type endpoint struct {
			id       string
			tenant   auth.Tenant
			failures int32
		}
		endpoints, err := queryAll(ctx, tx, func(row rowScanner) (e endpoint, err error) {
			var env string
			err = row.Scan(&e.id, &e.tenant.OrgID, &env, &e.failures)
			e.tenant.Env = auth.Environment(env)
			return e, err
		}, endpointsWithWork, at(c.Now))
		if err != nil {
			return err
		}
		failures := map[string]int{}
		endpointRoom := func(id string) int { return c.EndpointRoom(failures[id], perEndpoint[id]) }
		tenantRoom := func(t auth.Tenant) int { return c.TenantRoom(perTenant[t]) }
		var asked []endpoint
		var b pgx.Batch
		for _, e := range endpoints {
			failures[e.id] = int(e.failures)
			if n := min(endpointRoom(e.id), tenantRoom(e.tenant), c.Limit); n > 0 {
				b.Queue(firstOfLines, e.id, at(c.Now), n)
				asked = append(asked, e)
			}
		}
		if len(asked) == 0 {
			return nil
		}
		var offers []webhook.Offer
		br := tx.send(ctx, &b)
		for _, e := range asked {
			rows, err := br.Query()
			if err != nil {
				br.Close()
				return err
			}
			found, err := scanAll(rows, func(row rowScanner) (o webhook.Offer, err error) {
				var next pgtype.Timestamptz
				o.EndpointID, o.Tenant = e.id, e.tenant
				err = row.Scan(&o.DeliveryID, &o.Inserted, &next)
				o.Due = fromAt(next)
				return o, err
			})
			if err != nil {
				br.Close()
				return err
			}
			offers = append(offers, found...)
		}
		if err := br.Close(); err != nil {
			return err
		}
		picked := c.Take(offers, endpointRoom, tenantRoom)
		if len(picked) == 0 {
			return nil
		}
		order := make(map[string]int, len(picked))
		ids := make([]string, len(picked))
		for i, o := range picked {
			order[o.DeliveryID], ids[i] = i, o.DeliveryID
		}
		leased, err := queryAll(ctx, tx, func(row rowScanner) (webhook.Job, error) {
			var job webhook.Job
			var err error
			job.Delivery, err = sqlstore.ScanDelivery(sqlstore.Then(func(delivery []any) (err error) {
				job.Endpoint, err = sqlstore.ScanEndpoint(sqlstore.Then(func(endpoint []any) (err error) {
					job.Event, err = scanEvent(sqlstore.Then(func(event []any) error {
						return row.Scan(slices.Concat(delivery, endpoint, event)...)
					}))
					return err
				}))
				return err
			}))
			return job, err
		}, `UPDATE webhook_deliveries d SET lease_owner = $1, lease_until = $2
			FROM webhook_endpoints e, outbox_events ev
			WHERE d.id = ANY($3) AND e.id = d.endpoint_id AND ev.id = d.event_id
			RETURNING `+sqlstore.DeliveryColumns+`, `+prefixed("e.", sqlstore.EndpointColumns)+`, `+eventColumnsOf("ev"), c.Owner, at(c.Until), ids)
		if err != nil {
			return err
		}
		slices.SortFunc(leased, func(a, b webhook.Job) int { return cmp.Compare(order[a.Delivery.ID], order[b.Delivery.ID]) })
		jobs = leased
		return nil
	})
	return jobs, err
}

// scanAll scans every row of rows with scan and closes them.
func scanAll[T any](rows pgx.Rows, scan func(rowScanner) (T, error)) ([]T, error) {
	defer rows.Close()
	return sqlstore.Collect(rows, scan)
}

// PurgeDeliveries deletes one batch of finished deliveries, found by age
// through webhook_deliveries_finished, in one statement. Pending
// deliveries, the only ones leased or claimed, are never touched, so it
// waits on no worker.
func (q *webhookQueue) PurgeDeliveries(ctx context.Context, before, skippedBefore time.Time, limit int) (int, error) {
	cutoff := before
	if skippedBefore.After(cutoff) {
		cutoff = skippedBefore
	}
	tag, err := q.db.pool.Exec(ctx, `DELETE FROM webhook_deliveries WHERE id IN (
		SELECT id FROM webhook_deliveries
		WHERE status <> 'pending' AND created_at < $1
			AND (status <> 'skipped' OR created_at < $2) AND (status = 'skipped' OR created_at < $3)
		LIMIT $4 FOR UPDATE SKIP LOCKED)`, at(cutoff), at(skippedBefore), at(before), limit)
	if err != nil {
		return 0, translate(err)
	}
	return int(tag.RowsAffected()), nil
}

// PurgeEvents deletes one batch of published events (a ping, or at or
// before the fan-out cursor) that no delivery refers to, and their log
// rows, found by age through outbox_log_age (a BRIN index, migration
// 0031), in one statement; never the newest, whose position is the log's
// head, nor one not in the log (it sequences first, so a ping stored just
// now is in it). SKIP LOCKED
// passes over an event a redelivery being inserted holds (its foreign key
// check locks it), so the purge neither waits for it nor deletes what it
// refers to.
func (q *webhookQueue) PurgeEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := q.db.sequence(ctx); err != nil {
		return 0, err
	}
	tag, err := q.db.pool.Exec(ctx, `WITH gone AS (
		DELETE FROM outbox_log WHERE position IN (
			SELECT l.position FROM outbox_log l JOIN outbox_events e ON e.id = l.event_id
			WHERE l.created_at < $1 AND (e.published_at IS NOT NULL OR l.position <= `+fanOutCursor+`)
				AND l.position < (`+headQuery+`)
				AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id)
			LIMIT $2 FOR UPDATE OF e SKIP LOCKED)
		RETURNING event_id)
	DELETE FROM outbox_events WHERE id IN (SELECT event_id FROM gone)`, at(before), limit)
	if err != nil {
		return 0, translate(err)
	}
	return int(tag.RowsAffected()), nil
}

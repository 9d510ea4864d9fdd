package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
	"github.com/sety-io/sety/webhook"
)

type webhookStore DB

const endpointColumns = `id, org_id, environment, url, description, events, status, disabled_reason, secret,
	previous_secret, previous_expires_at, failing_since, failures, paused_until, created_at, updated_at`

const selectEndpoint = `SELECT ` + endpointColumns + ` FROM webhook_endpoints`

var endpointTable = table[*webhook.Endpoint]{sel: selectEndpoint, scan: scanEndpoint, notFound: webhook.ErrEndpointNotFound}

func scanEndpoint(row rowScanner) (*webhook.Endpoint, error) {
	var (
		e                                          webhook.Endpoint
		env, events                                string
		prev                                       *string
		prevExp, failing, paused, created, updated pgtype.Timestamptz
		failures                                   int32
	)
	if err := row.Scan(&e.ID, &e.OrgID, &env, &e.URL, &e.Description, &events, &e.Status, &e.DisabledReason,
		&e.Secret, &prev, &prevExp, &failing, &failures, &paused, &created, &updated); err != nil {
		return nil, err
	}
	e.Failures, e.PausedUntil = int(failures), fromAt(paused)
	if err := sqlstore.DecodeEvents(&e, events); err != nil {
		return nil, err
	}
	if prev != nil {
		e.PreviousSecret = *prev
	}
	e.Environment, e.PreviousExpiresAt, e.FailingSince = auth.Environment(env), fromAt(prevExp), fromAt(failing)
	e.CreatedAt, e.UpdatedAt = clock.At(fromAt(created)), clock.At(fromAt(updated))
	return &e, nil
}

// endpointArgs are $1 id and the mutable columns $2 … $13, in the order
// INSERT and UPDATE list them.
func endpointArgs(e *webhook.Endpoint) ([]any, error) {
	events, err := sqlstore.EncodeEvents(e)
	if err != nil {
		return nil, err
	}
	var prev *string
	if e.PreviousSecret != "" {
		prev = &e.PreviousSecret
	}
	return []any{e.ID, e.URL, e.Description, events, e.Status, e.DisabledReason, e.Secret, prev,
		at(e.PreviousExpiresAt), at(e.FailingSince), at(e.UpdatedAt.Time), int32(e.Failures), at(e.PausedUntil)}, nil
}

func (s *webhookStore) CreateEndpoint(ctx context.Context, e *webhook.Endpoint) error {
	args, err := endpointArgs(e)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO webhook_endpoints (id, url, description, events, status, disabled_reason, secret,
		previous_secret, previous_expires_at, failing_since, updated_at, failures, paused_until, org_id, environment, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		append(args, e.OrgID, string(e.Environment), at(e.CreatedAt.Time))...)
	return translate(err)
}

func (s *webhookStore) GetEndpoint(ctx context.Context, tenant auth.Tenant, id string) (*webhook.Endpoint, error) {
	return endpointTable.get(ctx, s.pool, tenant, id, "")
}

func (s *webhookStore) ListEndpoints(ctx context.Context, tenant auth.Tenant, offset, limit int) ([]*webhook.Endpoint, int, error) {
	l := list{Sel: selectEndpoint, Order: `created_at, id`}
	l.Tenant(tenant)
	return listPage(ctx, (*DB)(s), scanEndpoint, l, offset, limit)
}

// PendingCounts counts the pending deliveries of the tenant's endpoints
// among ids, in one statement.
func (s *webhookStore) PendingCounts(ctx context.Context, tenant auth.Tenant, ids []string) (map[string]int, error) {
	if len(ids) == 0 {
		return map[string]int{}, nil
	}
	l := list{Sel: selectPending, Order: `e.id`}
	l.Tenant(tenant)
	anyOf(&l, "e.id", ids)
	counts, err := all(ctx, s.pool, sqlstore.ScanGroup, l)
	return sqlstore.Counts(counts), err
}

// updateEndpoint queues the update of e to go out with the commit.
func updateEndpoint(tx *txn, e *webhook.Endpoint) error {
	args, err := endpointArgs(e)
	if err != nil {
		return err
	}
	tx.later(`UPDATE webhook_endpoints SET url = $2, description = $3, events = $4, status = $5, disabled_reason = $6,
		secret = $7, previous_secret = $8, previous_expires_at = $9, failing_since = $10, updated_at = $11,
		failures = $12, paused_until = $13 WHERE id = $1`, args...)
	return nil
}

// UpdateEndpoint locks the endpoint's row: see table.update.
func (s *webhookStore) UpdateEndpoint(ctx context.Context, tenant auth.Tenant, id string, change func(*webhook.Endpoint) error) (*webhook.Endpoint, error) {
	return endpointTable.update(ctx, (*DB)(s), tenant, id, func(tx *txn, e *webhook.Endpoint) error {
		if _, err := sqlstore.ChangeEndpoint(e, tenant, id, change); err != nil {
			return err
		}
		return updateEndpoint(tx, e)
	})
}

// ResumeEndpoint locks the endpoint's row as UpdateEndpoint does; when the
// change enables a disabled endpoint, its skipped deliveries since since
// become pending in the same transaction.
func (s *webhookStore) ResumeEndpoint(ctx context.Context, tenant auth.Tenant, id string, since, now time.Time, change func(*webhook.Endpoint) error) (*webhook.Endpoint, error) {
	return endpointTable.update(ctx, (*DB)(s), tenant, id, func(tx *txn, e *webhook.Endpoint) error {
		resumed, err := sqlstore.ChangeEndpoint(e, tenant, id, change)
		if err != nil {
			return err
		}
		if err := updateEndpoint(tx, e); err != nil {
			return err
		}
		if resumed {
			tx.later(`UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $1
				WHERE endpoint_id = $2 AND status = 'skipped' AND created_at >= $3`, at(now), id, at(since))
		}
		return nil
	})
}

func (s *webhookStore) SecretKey(ctx context.Context) ([]byte, error) {
	return (*DB)(s).firstKey(ctx, "webhook_secret_key")
}

// DeleteEndpoint deletes the endpoint's deliveries, then the endpoint:
// the order FinishAttempt locks them in, so the two never deadlock. A
// delivery a fan-out inserts meanwhile holds a key lock on the endpoint;
// the endpoint's delete waits for it and takes the delivery with it (ON
// DELETE CASCADE).
func (s *webhookStore) DeleteEndpoint(ctx context.Context, tenant auth.Tenant, id string) error {
	return (*DB)(s).inTx(ctx, func(tx *txn) error {
		if _, err := tx.Exec(ctx, `DELETE FROM webhook_deliveries WHERE endpoint_id = $1 AND org_id = $2 AND environment = $3`,
			id, tenant.OrgID, string(tenant.Env)); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM webhook_endpoints`+byTenantID, id, tenant.OrgID, string(tenant.Env))
		if err == nil && tag.RowsAffected() == 0 {
			return webhook.ErrEndpointNotFound
		}
		return err
	})
}

// queueDelivery queues the insert of a new delivery on b, in its line: the
// subject and sequence of its event.
func queueDelivery(b *pgx.Batch, d *webhook.Delivery, subject string, sequence int64) {
	b.Queue(`INSERT INTO webhook_deliveries (id, endpoint_id, org_id, environment, event_id, event_type, status,
		attempts, next_attempt_at, created_at, subject_id, sequence) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		d.ID, d.EndpointID, d.OrgID, string(d.Environment), d.EventID, d.EventType, d.Status, d.Attempts, at(d.NextAttemptAt.Time), at(d.CreatedAt.Time),
		subject, sequence)
}

// AddDelivery stores a ping: its event goes into the outbox already
// published (fan-out passes over it when the sequencer has logged it),
// then its delivery. The endpoint is key-share locked first, so the
// delivery's insert cannot wait for a concurrent change of the endpoint.
func (s *webhookStore) AddDelivery(ctx context.Context, ev outbox.Event, d *webhook.Delivery) error {
	return (*DB)(s).inTx(ctx, func(tx *txn) error {
		if err := endpointOf(ctx, tx, d); err != nil {
			return err
		}
		tx.insertEvents([]outbox.Event{ev})
		tx.later(`UPDATE outbox_events SET published_at = created_at WHERE id = $1`, ev.ID)
		queueDelivery(&tx.tail, d, ev.SubjectID, ev.Sequence)
		return nil
	})
}

const (
	deliveryColumns = `d.id, d.endpoint_id, d.org_id, d.environment, d.event_id, d.event_type, d.status, d.attempts,
	d.next_attempt_at, d.last_attempt_at, d.response_status, d.response_body, d.duration_ms, d.error, d.created_at`
	selectDelivery = `SELECT ` + deliveryColumns + ` FROM webhook_deliveries d`
)

func scanDelivery(row rowScanner) (*webhook.Delivery, error) {
	var (
		d                   webhook.Delivery
		env                 string
		next, last, created pgtype.Timestamptz
	)
	if err := row.Scan(&d.ID, &d.EndpointID, &d.OrgID, &env, &d.EventID, &d.EventType, &d.Status, &d.Attempts,
		&next, &last, &d.ResponseStatus, &d.ResponseBody, &d.DurationMs, &d.Error, &created); err != nil {
		return nil, err
	}
	d.Environment = auth.Environment(env)
	d.NextAttemptAt, d.LastAttemptAt, d.CreatedAt = clock.At(fromAt(next)), clock.At(fromAt(last)), clock.At(fromAt(created))
	return &d, nil
}

func (s *webhookStore) ListDeliveries(ctx context.Context, tenant auth.Tenant, endpointID, status string, offset, limit int) ([]*webhook.Delivery, int, error) {
	l := list{Sel: selectDelivery, Order: `d.created_at DESC, d.id DESC`}
	l.And(`d.endpoint_id = ? AND d.org_id = ? AND d.environment = ?`, endpointID, tenant.OrgID, string(tenant.Env))
	if status != "" {
		l.And(`d.status = ?`, status)
	}
	return listPage(ctx, (*DB)(s), scanDelivery, l, offset, limit)
}

func (s *webhookStore) GetDelivery(ctx context.Context, tenant auth.Tenant, endpointID, id string) (*webhook.Delivery, error) {
	d, err := scanDelivery(s.pool.QueryRow(ctx, selectDelivery+` WHERE d.id = $1 AND d.endpoint_id = $2 AND d.org_id = $3 AND d.environment = $4`,
		id, endpointID, tenant.OrgID, string(tenant.Env)))
	if errors.Is(err, errNoRows) {
		return nil, webhook.ErrDeliveryNotFound
	}
	return d, translate(err)
}

func (s *webhookStore) InsertDelivery(ctx context.Context, d *webhook.Delivery) error {
	return (*DB)(s).inTx(ctx, func(tx *txn) error {
		if err := endpointOf(ctx, tx, d); err != nil {
			return err
		}
		var subject string
		var sequence int64
		err := tx.QueryRow(ctx, `SELECT subject_id, sequence FROM outbox_events WHERE id = $1`, d.EventID).Scan(&subject, &sequence)
		if errors.Is(err, errNoRows) {
			return setyerr.E(setyerr.NotFound, "event %s not found", d.EventID)
		}
		if err != nil {
			return err
		}
		queueDelivery(&tx.tail, d, subject, sequence)
		return nil
	})
}

// endpointOf checks that the delivery's endpoint exists in its tenant, and
// key-share locks it until tx ends (as the delivery's foreign key would):
// it cannot be deleted meanwhile.
func endpointOf(ctx context.Context, tx *txn, d *webhook.Delivery) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM webhook_endpoints`+byTenantID+` FOR KEY SHARE`, d.EndpointID, d.OrgID, string(d.Environment)).Scan(&one)
	if errors.Is(err, errNoRows) {
		return webhook.ErrEndpointNotFound
	}
	return err
}

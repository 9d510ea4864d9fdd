package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
	"github.com/sety-io/sety/webhook"
)

type webhookStore DB

const selectEndpoint = `SELECT id, org_id, environment, url, description, events, status, disabled_reason, secret,
	previous_secret, previous_expires_at, failing_since, failures, paused_until, created_at, updated_at FROM webhook_endpoints`

var endpointTable = table[*webhook.Endpoint]{sel: selectEndpoint, scan: scanEndpoint, notFound: webhook.ErrEndpointNotFound}

func scanEndpoint(row rowScanner) (*webhook.Endpoint, error) {
	var (
		e                                          webhook.Endpoint
		events                                     string
		prev                                       sql.NullString
		prevExp, failing, paused, created, updated sql.NullInt64
	)
	if err := row.Scan(&e.ID, &e.OrgID, &e.Environment, &e.URL, &e.Description, &events, &e.Status, &e.DisabledReason,
		&e.Secret, &prev, &prevExp, &failing, &e.Failures, &paused, &created, &updated); err != nil {
		return nil, err
	}
	e.PausedUntil = fromMillis(paused)
	if err := sqlstore.DecodeEvents(&e, events); err != nil {
		return nil, err
	}
	e.PreviousSecret, e.PreviousExpiresAt, e.FailingSince = prev.String, fromMillis(prevExp), fromMillis(failing)
	e.CreatedAt, e.UpdatedAt = clock.At(fromMillis(created)), clock.At(fromMillis(updated))
	return &e, nil
}

func endpointArgs(e *webhook.Endpoint) ([]any, error) {
	events, err := sqlstore.EncodeEvents(e)
	if err != nil {
		return nil, err
	}
	var prev sql.NullString
	if e.PreviousSecret != "" {
		prev = sql.NullString{String: e.PreviousSecret, Valid: true}
	}
	return []any{e.URL, e.Description, events, e.Status, e.DisabledReason, e.Secret, prev,
		millis(e.PreviousExpiresAt), millis(e.FailingSince), e.Failures, millis(e.PausedUntil), e.UpdatedAt.UnixMilli()}, nil
}

func (s *webhookStore) CreateEndpoint(ctx context.Context, e *webhook.Endpoint) error {
	args, err := endpointArgs(e)
	if err != nil {
		return err
	}
	return translate((*DB)(s).inTx(ctx, func(tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO webhook_endpoints (url, description, events, status, disabled_reason, secret,
			previous_secret, previous_expires_at, failing_since, failures, paused_until, updated_at, id, org_id, environment, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, append(args, e.ID, e.OrgID, e.Environment, e.CreatedAt.UnixMilli())...)
		return err
	}))
}

func (s *webhookStore) GetEndpoint(ctx context.Context, tenant auth.Tenant, id string) (*webhook.Endpoint, error) {
	return endpointTable.get(ctx, s.read, tenant, id)
}

func (s *webhookStore) ListEndpoints(ctx context.Context, tenant auth.Tenant, offset, limit int) ([]*webhook.Endpoint, int, error) {
	l := list{Sel: selectEndpoint, Order: `created_at, id`}
	l.Tenant(tenant)
	return listPage(ctx, s.read, scanEndpoint, l, offset, limit)
}

// PendingCounts counts the pending deliveries of the tenant's endpoints
// among ids, in one statement.
func (s *webhookStore) PendingCounts(ctx context.Context, tenant auth.Tenant, ids []string) (map[string]int, error) {
	if len(ids) == 0 {
		return map[string]int{}, nil
	}
	l := list{Sel: selectPending, Order: `e.id`}
	l.Tenant(tenant)
	inList(&l, "e.id", ids)
	counts, err := all(ctx, s.read, sqlstore.ScanGroup, l)
	return sqlstore.Counts(counts), err
}

func updateEndpoint(ctx context.Context, tx *writeTx, e *webhook.Endpoint) error {
	args, err := endpointArgs(e)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE webhook_endpoints SET url = ?, description = ?, events = ?, status = ?, disabled_reason = ?,
		secret = ?, previous_secret = ?, previous_expires_at = ?, failing_since = ?, failures = ?, paused_until = ?, updated_at = ?
		WHERE id = ?`, append(args, e.ID)...)
	return err
}

func (s *webhookStore) UpdateEndpoint(ctx context.Context, tenant auth.Tenant, id string, change func(*webhook.Endpoint) error) (*webhook.Endpoint, error) {
	return endpointTable.update(ctx, (*DB)(s), tenant, id, func(tx *writeTx, e *webhook.Endpoint) error {
		if _, err := sqlstore.ChangeEndpoint(e, tenant, id, change); err != nil {
			return err
		}
		return updateEndpoint(ctx, tx, e)
	})
}

func (s *webhookStore) ResumeEndpoint(ctx context.Context, tenant auth.Tenant, id string, since, now time.Time, change func(*webhook.Endpoint) error) (*webhook.Endpoint, error) {
	return endpointTable.update(ctx, (*DB)(s), tenant, id, func(tx *writeTx, e *webhook.Endpoint) error {
		resumed, err := sqlstore.ChangeEndpoint(e, tenant, id, change)
		if err != nil {
			return err
		}
		if err := updateEndpoint(ctx, tx, e); err != nil {
			return err
		}
		if !resumed {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?
			WHERE endpoint_id = ? AND status = 'skipped' AND created_at >= ?`, now.UnixMilli(), id, since.UnixMilli())
		return err
	})
}

func (s *webhookStore) SecretKey(ctx context.Context) ([]byte, error) {
	return (*DB)(s).firstKey(ctx, "webhook_secret_key")
}

func (s *webhookStore) DeleteEndpoint(ctx context.Context, tenant auth.Tenant, id string) error {
	return translate((*DB)(s).inTx(ctx, func(tx *writeTx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE endpoint_id = ? AND org_id = ? AND environment = ?`, id, tenant.OrgID, tenant.Env); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM webhook_endpoints`+byTenantID, id, tenant.OrgID, tenant.Env)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return webhook.ErrEndpointNotFound
		}
		return nil
	}))
}

// insertDelivery stores d with its event's subject and sequence: its place
// in its line. An event not in the store is setyerr.NotFound.
func insertDelivery(ctx context.Context, tx *writeTx, d *webhook.Delivery) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (id, endpoint_id, org_id, environment, event_id, event_type, status,
		attempts, next_attempt_at, created_at, subject_id, sequence)
		SELECT ?, ?, ?, ?, id, ?, ?, ?, ?, ?, subject_id, sequence FROM outbox_events WHERE id = ?`,
		d.ID, d.EndpointID, d.OrgID, d.Environment, d.EventType, d.Status, d.Attempts, millis(d.NextAttemptAt.Time), d.CreatedAt.UnixMilli(), d.EventID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return setyerr.E(setyerr.NotFound, "event %s not found", d.EventID)
	}
	return nil
}

func (s *webhookStore) AddDelivery(ctx context.Context, ev outbox.Event, d *webhook.Delivery) error {
	return translate((*DB)(s).inTx(ctx, func(tx *writeTx) error {
		if err := endpointOf(ctx, tx, d); err != nil {
			return err
		}
		if err := insertEvents(ctx, tx, []outbox.Event{ev}); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE outbox_events SET published_at = created_at WHERE id = ?`, ev.ID); err != nil {
			return err
		}
		return insertDelivery(ctx, tx, d)
	}))
}

const selectDelivery = `SELECT d.id, d.endpoint_id, d.org_id, d.environment, d.event_id, d.event_type, d.status, d.attempts,
	d.next_attempt_at, d.last_attempt_at, d.response_status, d.response_body, d.duration_ms, d.error, d.created_at FROM webhook_deliveries d`

func scanDelivery(row rowScanner) (*webhook.Delivery, error) {
	var (
		d                   webhook.Delivery
		next, last, created sql.NullInt64
		status              sql.NullInt64
	)
	if err := row.Scan(&d.ID, &d.EndpointID, &d.OrgID, &d.Environment, &d.EventID, &d.EventType, &d.Status, &d.Attempts,
		&next, &last, &status, &d.ResponseBody, &d.DurationMs, &d.Error, &created); err != nil {
		return nil, err
	}
	if status.Valid {
		code := int(status.Int64)
		d.ResponseStatus = &code
	}
	d.NextAttemptAt, d.LastAttemptAt, d.CreatedAt = clock.At(fromMillis(next)), clock.At(fromMillis(last)), clock.At(fromMillis(created))
	return &d, nil
}

func (s *webhookStore) ListDeliveries(ctx context.Context, tenant auth.Tenant, endpointID, status string, offset, limit int) ([]*webhook.Delivery, int, error) {
	l := list{Sel: selectDelivery, Order: `d.created_at DESC, d.id DESC`}
	l.And(`d.endpoint_id = ? AND d.org_id = ? AND d.environment = ?`, endpointID, tenant.OrgID, tenant.Env)
	if status != "" {
		l.And(`d.status = ?`, status)
	}
	return listPage(ctx, s.read, scanDelivery, l, offset, limit)
}

func (s *webhookStore) GetDelivery(ctx context.Context, tenant auth.Tenant, endpointID, id string) (*webhook.Delivery, error) {
	d, err := scanDelivery(s.read.QueryRowContext(ctx, selectDelivery+` WHERE d.id = ? AND d.endpoint_id = ? AND d.org_id = ? AND d.environment = ?`,
		id, endpointID, tenant.OrgID, tenant.Env))
	if errors.Is(err, errNoRows) {
		return nil, webhook.ErrDeliveryNotFound
	}
	return d, translate(err)
}

func (s *webhookStore) InsertDelivery(ctx context.Context, d *webhook.Delivery) error {
	return translate((*DB)(s).inTx(ctx, func(tx *writeTx) error {
		if err := endpointOf(ctx, tx, d); err != nil {
			return err
		}
		return insertDelivery(ctx, tx, d)
	}))
}

// endpointOf checks that the delivery's endpoint exists in its tenant.
func endpointOf(ctx context.Context, tx *writeTx, d *webhook.Delivery) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM webhook_endpoints`+byTenantID,
		d.EndpointID, d.OrgID, d.Environment).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return webhook.ErrEndpointNotFound
	}
	return nil
}

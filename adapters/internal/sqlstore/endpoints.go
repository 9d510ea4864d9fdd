package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
	"github.com/sety-io/sety/webhook"
)

// webhookStore is webhook.Store on a Driver: the same SQL on both engines.
type webhookStore struct{ d Driver }

// EndpointColumns are the columns of webhook_endpoints ScanEndpoint reads,
// in its order.
const EndpointColumns = `id, org_id, environment, url, description, events, status, disabled_reason, secret,
	previous_secret, previous_expires_at, failing_since, failures, paused_until, created_at, updated_at`

// SelectEndpoint is the select of endpoints ScanEndpoint reads.
const SelectEndpoint = `SELECT ` + EndpointColumns + ` FROM webhook_endpoints`

var endpointTable = Table[*webhook.Endpoint]{Sel: SelectEndpoint, Scan: ScanEndpoint, NotFound: webhook.ErrEndpointNotFound}

// ScanEndpoint reads an endpoint (EndpointColumns).
func ScanEndpoint(row RowScanner) (*webhook.Endpoint, error) {
	var (
		e                                          webhook.Endpoint
		env, events                                string
		prev                                       *string
		prevExp, failing, paused, created, updated Time
	)
	if err := row.Scan(&e.ID, &e.OrgID, &env, &e.URL, &e.Description, &events, &e.Status, &e.DisabledReason,
		&e.Secret, &prev, &prevExp, &failing, &e.Failures, &paused, &created, &updated); err != nil {
		return nil, err
	}
	if err := DecodeEvents(&e, events); err != nil {
		return nil, err
	}
	if prev != nil {
		e.PreviousSecret = *prev
	}
	e.Environment, e.PreviousExpiresAt, e.FailingSince, e.PausedUntil = auth.Environment(env), prevExp.Time, failing.Time, paused.Time
	e.CreatedAt, e.UpdatedAt = created.Clock(), updated.Clock()
	return &e, nil
}

// endpointColumns are the columns of an endpoint that a change may set, in
// the order endpointArgs gives them.
const endpointColumns = `url, description, events, status, disabled_reason, secret, previous_secret, previous_expires_at,
	failing_since, failures, paused_until, updated_at`

func endpointArgs(d Dialect, e *webhook.Endpoint) ([]any, error) {
	events, err := EncodeEvents(e)
	if err != nil {
		return nil, err
	}
	var prev *string
	if e.PreviousSecret != "" {
		prev = &e.PreviousSecret
	}
	return []any{e.URL, e.Description, events, e.Status, e.DisabledReason, e.Secret, prev, d.Time(e.PreviousExpiresAt),
		d.Time(e.FailingSince), e.Failures, d.Time(e.PausedUntil), d.Time(e.UpdatedAt.Time)}, nil
}

func (s webhookStore) CreateEndpoint(ctx context.Context, e *webhook.Endpoint) error {
	args, err := endpointArgs(s.d, e)
	if err != nil {
		return err
	}
	_, err = s.d.Write(ctx, `INSERT INTO webhook_endpoints (`+endpointColumns+`, id, org_id, environment, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, append(args, e.ID, e.OrgID, e.Environment, s.d.Time(e.CreatedAt.Time))...)
	return s.d.Translate(err)
}

func (s webhookStore) GetEndpoint(ctx context.Context, tenant auth.Tenant, id string) (*webhook.Endpoint, error) {
	e, err := endpointTable.Get(ctx, s.d.Read(), tenant, id, "")
	return e, s.d.Translate(err)
}

func (s webhookStore) ListEndpoints(ctx context.Context, tenant auth.Tenant, offset, limit int) ([]*webhook.Endpoint, int, error) {
	l := List{Sel: SelectEndpoint, Order: `created_at, id`}
	l.Tenant(tenant)
	return Page(ctx, s.d, ScanEndpoint, l, offset, limit)
}

// selectPending is each endpoint's id and how many of its deliveries are
// pending, counted from the partial index the claims read: the metrics
// read every endpoint's (Queue.PendingDeliveries), a tenant its own
// (PendingCounts).
func selectPending(d Dialect) string {
	return `SELECT e.id, (SELECT count(*) FROM webhook_deliveries d` + d.IndexedBy("webhook_deliveries_pending") + `
		WHERE d.endpoint_id = e.id AND d.status = 'pending') FROM webhook_endpoints e`
}

// PendingCounts counts the pending deliveries of the tenant's endpoints
// among ids, in one statement.
func (s webhookStore) PendingCounts(ctx context.Context, tenant auth.Tenant, ids []string) (map[string]int, error) {
	if len(ids) == 0 {
		return map[string]int{}, nil
	}
	l := List{Sel: selectPending(s.d), Order: `e.id`}
	l.Tenant(tenant)
	In(&l, s.d, "e.id", ids)
	counts, err := All(ctx, s.d.Read(), ScanGroup, l)
	return Counts(counts), s.d.Translate(err)
}

// UpdateEndpoint stores e, changed, in tx (with the commit where it can).
func UpdateEndpoint(tx Tx, e *webhook.Endpoint) error {
	args, err := endpointArgs(tx, e)
	if err != nil {
		return err
	}
	tx.Later(`UPDATE webhook_endpoints SET url = ?, description = ?, events = ?, status = ?, disabled_reason = ?,
		secret = ?, previous_secret = ?, previous_expires_at = ?, failing_since = ?, failures = ?, paused_until = ?, updated_at = ?
		WHERE id = ?`, append(args, e.ID)...)
	return nil
}

// UpdateEndpoint locks the endpoint's row: see Table.Update.
func (s webhookStore) UpdateEndpoint(ctx context.Context, tenant auth.Tenant, id string, change func(*webhook.Endpoint) error) (*webhook.Endpoint, error) {
	return endpointTable.Update(ctx, s.d, tenant, id, func(tx Tx, e *webhook.Endpoint) error {
		if _, err := ChangeEndpoint(e, tenant, id, change); err != nil {
			return err
		}
		return UpdateEndpoint(tx, e)
	})
}

// ResumeEndpoint locks the endpoint's row as UpdateEndpoint does; when the
// change enables a disabled endpoint, its skipped deliveries since since
// become pending in the same transaction.
func (s webhookStore) ResumeEndpoint(ctx context.Context, tenant auth.Tenant, id string, since, now time.Time, change func(*webhook.Endpoint) error) (*webhook.Endpoint, error) {
	return endpointTable.Update(ctx, s.d, tenant, id, func(tx Tx, e *webhook.Endpoint) error {
		resumed, err := ChangeEndpoint(e, tenant, id, change)
		if err != nil {
			return err
		}
		if err := UpdateEndpoint(tx, e); err != nil {
			return err
		}
		if resumed {
			tx.Later(`UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?
				WHERE endpoint_id = ? AND status = 'skipped' AND created_at >= ?`, tx.Time(now), id, tx.Time(since))
		}
		return nil
	})
}

func (s webhookStore) SecretKey(ctx context.Context) ([]byte, error) {
	return firstKey(ctx, s.d, "webhook_secret_key")
}

// DeleteEndpoint deletes the endpoint's deliveries, then the endpoint:
// the order FinishAttempt locks them in, so the two never deadlock. A
// delivery a fan-out inserts meanwhile holds a key lock on the endpoint
// (PostgreSQL); the endpoint's delete waits for it and takes the delivery
// with it (ON DELETE CASCADE).
func (s webhookStore) DeleteEndpoint(ctx context.Context, tenant auth.Tenant, id string) error {
	return s.d.InTx(ctx, func(tx Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM webhook_deliveries WHERE endpoint_id = ? AND org_id = ? AND environment = ?`,
			id, tenant.OrgID, tenant.Env); err != nil {
			return err
		}
		n, err := tx.Exec(ctx, `DELETE FROM webhook_endpoints`+ByTenantID, id, tenant.OrgID, tenant.Env)
		if err == nil && n == 0 {
			return webhook.ErrEndpointNotFound
		}
		return err
	})
}

// InsertDelivery stores a new delivery in tx (with the commit where it
// can), in its line: the subject and sequence of its event.
func InsertDelivery(tx Tx, d *webhook.Delivery, subject string, sequence int64) {
	tx.Later(`INSERT INTO webhook_deliveries (id, endpoint_id, org_id, environment, event_id, event_type, status,
		attempts, next_attempt_at, created_at, subject_id, sequence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.EndpointID, d.OrgID, d.Environment, d.EventID, d.EventType, d.Status, d.Attempts, tx.Time(d.NextAttemptAt.Time),
		tx.Time(d.CreatedAt.Time), subject, sequence)
}

// AddDelivery stores a ping: its event goes into the outbox already
// published (fan-out passes over it: on PostgreSQL when the sequencer has
// logged it), then its delivery. The endpoint is key-share locked first
// (PostgreSQL), so the delivery's insert cannot wait for a concurrent
// change of the endpoint.
func (s webhookStore) AddDelivery(ctx context.Context, ev outbox.Event, d *webhook.Delivery) error {
	return s.d.InTx(ctx, func(tx Tx) error {
		if err := endpointOf(ctx, tx, d); err != nil {
			return err
		}
		tx.InsertEvents([]outbox.Event{ev})
		tx.Later(`UPDATE outbox_events SET published_at = created_at WHERE id = ?`, ev.ID)
		InsertDelivery(tx, d, ev.SubjectID, ev.Sequence)
		return nil
	})
}

// DeliveryColumns are the columns of webhook_deliveries d ScanDelivery
// reads, in its order.
const DeliveryColumns = `d.id, d.endpoint_id, d.org_id, d.environment, d.event_id, d.event_type, d.status, d.attempts,
	d.next_attempt_at, d.last_attempt_at, d.response_status, d.response_body, d.duration_ms, d.error, d.created_at`

// SelectDelivery is the select of deliveries ScanDelivery reads.
const SelectDelivery = `SELECT ` + DeliveryColumns + ` FROM webhook_deliveries d`

// ScanDelivery reads a delivery (DeliveryColumns).
func ScanDelivery(row RowScanner) (*webhook.Delivery, error) {
	var (
		d                   webhook.Delivery
		env                 string
		next, last, created Time
	)
	if err := row.Scan(&d.ID, &d.EndpointID, &d.OrgID, &env, &d.EventID, &d.EventType, &d.Status, &d.Attempts,
		&next, &last, &d.ResponseStatus, &d.ResponseBody, &d.DurationMs, &d.Error, &created); err != nil {
		return nil, err
	}
	d.Environment, d.NextAttemptAt, d.LastAttemptAt, d.CreatedAt = auth.Environment(env), next.Clock(), last.Clock(), created.Clock()
	return &d, nil
}

func (s webhookStore) ListDeliveries(ctx context.Context, tenant auth.Tenant, endpointID, status string, offset, limit int) ([]*webhook.Delivery, int, error) {
	l := List{Sel: SelectDelivery, Order: `d.created_at DESC, d.id DESC`}
	l.And(`d.endpoint_id = ? AND d.org_id = ? AND d.environment = ?`, endpointID, tenant.OrgID, tenant.Env)
	if status != "" {
		l.And(`d.status = ?`, status)
	}
	return Page(ctx, s.d, ScanDelivery, l, offset, limit)
}

func (s webhookStore) GetDelivery(ctx context.Context, tenant auth.Tenant, endpointID, id string) (*webhook.Delivery, error) {
	d, err := ScanDelivery(s.d.Read().QueryRow(ctx, SelectDelivery+` WHERE d.id = ? AND d.endpoint_id = ? AND d.org_id = ? AND d.environment = ?`,
		id, endpointID, tenant.OrgID, tenant.Env))
	d, err = Found(d, err, ErrNoRows, webhook.ErrDeliveryNotFound)
	return d, s.d.Translate(err)
}

func (s webhookStore) InsertDelivery(ctx context.Context, d *webhook.Delivery) error {
	return s.d.InTx(ctx, func(tx Tx) error {
		if err := endpointOf(ctx, tx, d); err != nil {
			return err
		}
		var subject string
		var sequence int64
		err := tx.QueryRow(ctx, `SELECT subject_id, sequence FROM outbox_events WHERE id = ?`, d.EventID).Scan(&subject, &sequence)
		if errors.Is(err, ErrNoRows) {
			return setyerr.E(setyerr.NotFound, "event %s not found", d.EventID)
		}
		if err != nil {
			return err
		}
		InsertDelivery(tx, d, subject, sequence)
		return nil
	})
}

// endpointOf checks that the delivery's endpoint exists in its tenant, and
// key-share locks it until tx ends (as the delivery's foreign key would):
// it cannot be deleted meanwhile.
func endpointOf(ctx context.Context, tx Tx, d *webhook.Delivery) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM webhook_endpoints`+ByTenantID+tx.ForKeyShare(), d.EndpointID, d.OrgID, d.Environment).Scan(&one)
	if errors.Is(err, ErrNoRows) {
		return webhook.ErrEndpointNotFound
	}
	return err
}

package sqlstore

import (
	"context"
	"errors"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/setyerr"
	"github.com/sety-io/sety/webhook"
)

// Queue is the part of webhook.Queue that is the same SQL on both engines;
// each adapter adds the fan-out, the claims and the purges, which are not.
type Queue struct{ d Driver }

// NewQueue returns the shared part of webhook.Queue on d.
func NewQueue(d Driver) Queue { return Queue{d} }

// FinishAttempt locks the delivery's row and then its endpoint's (the order
// DeleteEndpoint takes them in too), checks the lease, and stores both.
func (q Queue) FinishAttempt(ctx context.Context, owner, id string, change func(*webhook.Delivery, *webhook.Endpoint) error) error {
	return q.d.InTx(ctx, func(tx Tx) error {
		var leaseOwner *string
		row := tx.QueryRow(ctx, `SELECT `+DeliveryColumns+`, d.lease_owner FROM webhook_deliveries d WHERE d.id = ?`+tx.ForUpdate(), id)
		d, err := ScanDelivery(Then(func(dest []any) error { return row.Scan(append(dest, &leaseOwner)...) }))
		if errors.Is(err, ErrNoRows) {
			return webhook.ErrDeliveryNotFound
		}
		if err != nil {
			return err
		}
		if leaseOwner == nil || *leaseOwner != owner {
			return setyerr.E(setyerr.Conflict, "lease of delivery %s lost", id)
		}
		e, err := ScanEndpoint(tx.QueryRow(ctx, SelectEndpoint+` WHERE id = ?`+tx.ForUpdate(), d.EndpointID))
		if err != nil {
			return err
		}
		if err := change(d, e); err != nil {
			return err
		}
		tx.Later(`UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_attempt_at = ?,
			response_status = ?, response_body = ?, duration_ms = ?, error = ?, lease_owner = NULL, lease_until = NULL WHERE id = ?`,
			d.Status, d.Attempts, tx.Time(d.NextAttemptAt.Time), tx.Time(d.LastAttemptAt.Time), d.ResponseStatus, d.ResponseBody, d.DurationMs, d.Error, id)
		return UpdateEndpoint(tx, e)
	})
}

// UpdateEndpoints locks a page of endpoints (in id order) and stores those
// change changed.
func (q Queue) UpdateEndpoints(ctx context.Context, after string, limit int, change func(*webhook.Endpoint) (bool, error)) (string, error) {
	last := ""
	err := q.d.InTx(ctx, func(tx Tx) error {
		page, err := QueryAll(ctx, tx, ScanEndpoint, SelectEndpoint+` WHERE id > ? ORDER BY id LIMIT ?`+tx.ForUpdate(), after, limit)
		if err != nil {
			return err
		}
		last, err = ChangeEndpoints(page, change, func(e *webhook.Endpoint) error { return UpdateEndpoint(tx, e) })
		return err
	})
	if err != nil {
		return "", err
	}
	return last, nil
}

// PendingDeliveries counts each endpoint's pending deliveries from the
// partial index the claims read, in one statement (one snapshot).
func (q Queue) PendingDeliveries(ctx context.Context) (map[string]int, error) {
	counts, err := QueryAll(ctx, q.d.Read(), ScanGroup, selectPending(q.d))
	return Counts(counts), q.d.Translate(err)
}

// TenantEndpoints lists the tenant's endpoints, enabled or not, by id: what
// a fan-out offers an event of the tenant; q is the fan-out's transaction
// (SQLite's, its queries kept prepared).
func TenantEndpoints(ctx context.Context, q Querier, tenant auth.Tenant) ([]*webhook.Endpoint, error) {
	return QueryAll(ctx, q, ScanEndpoint, SelectEndpoint+` WHERE org_id = ? AND environment = ? ORDER BY id`, tenant.OrgID, tenant.Env)
}

// Then is a RowScanner that hands the destinations it is given to a
// function: the way to scan one row that holds more than one scan
// function's columns (a delivery, its endpoint and its event), each
// function nesting the next.
type Then func(dest []any) error

// Scan implements RowScanner.
func (f Then) Scan(dest ...any) error { return f(dest) }

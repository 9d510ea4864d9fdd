package sqlstore

import (
	"context"
	"errors"
	"strings"

	"github.com/sety-io/sety/auth"
)

// Found passes on the result of reading one row, v and err, with a
// missing row (err is noRows, the driver's error for it) turned into
// notFound, the error the port documents.
func Found[T any](v T, err, noRows, notFound error) (T, error) {
	if errors.Is(err, noRows) {
		var zero T
		return zero, notFound
	}
	return v, err
}

// Update is a read-modify-write in one transaction of inTx: get reads the
// value, write changes and stores it, and the value is returned as write
// left it. An error of either ends the transaction and is returned, and
// nothing is written.
func Update[Tx, T any](inTx func(func(Tx) error) error, get func(Tx) (T, error), write func(Tx, T) error) (T, error) {
	var out T
	err := inTx(func(tx Tx) error {
		v, err := get(tx)
		if err != nil {
			return err
		}
		if err := write(tx, v); err != nil {
			return err
		}
		out = v
		return nil
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// Where is the WHERE clause of conds, all of which must hold; "" for none.
func Where(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// ByTenantID is the condition of a tenant's row by id; its arguments are
// the id, the organization and the environment.
const ByTenantID = ` WHERE id = ? AND org_id = ? AND environment = ?`

// Table is how rows of one kind are read: the select of their columns, the
// scan of one row, and the error of a row the tenant does not have.
type Table[T any] struct {
	Sel      string
	Scan     func(RowScanner) (T, error)
	NotFound error
}

// Get reads the tenant's row id through q, with lock (a Dialect's
// ForUpdate, or "") after the condition.
func (t Table[T]) Get(ctx context.Context, q Querier, tenant auth.Tenant, id, lock string) (T, error) {
	v, err := t.Scan(q.QueryRow(ctx, t.Sel+ByTenantID+lock, id, tenant.OrgID, tenant.Env))
	return Found(v, err, ErrNoRows, t.NotFound)
}

// Update reads the tenant's row id in a write transaction of d and hands
// it to write, which changes and stores it, and returns the row as write
// left it. The read locks the row (Dialect.ForUpdate): concurrent updates
// of one row, from any instance, take turns, and each reads what the one
// before it wrote, so no change is lost. A missing row is NotFound; an
// error from write is returned as it is; both write nothing.
func (t Table[T]) Update(ctx context.Context, d Driver, tenant auth.Tenant, id string, write func(Tx, T) error) (T, error) {
	return Update(func(fn func(Tx) error) error { return d.InTx(ctx, fn) },
		func(tx Tx) (T, error) { return t.Get(ctx, tx, tenant, id, d.ForUpdate()) }, write)
}

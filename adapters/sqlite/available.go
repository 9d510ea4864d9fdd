package sqlite

import (
	"context"

	"github.com/sety-io/sety/auth"
)

// availability is what the writer knows of which tenants have an available
// responder at all (an entry in responders_available), so that a create
// that queues (CreateQueued) skips the R*Tree look of a tenant with none:
// the common case under load, a tenant without a pool or with every
// responder busy, where the look cost the writer about 8% of its time per
// create.
//
// Nothing is assumed that the database does not hold: an entry is learnt
// from the database in a write transaction and holds while nothing can
// have changed that tenant's pool since:
//   - this process changes the pool only through putResponder, which
//     forgets the tenant before it writes;
//   - another connection (another process sharing the file) changes it
//     only by a commit, which moves PRAGMA data_version of the writer's
//     connection: the first look of each batch reads it, under the
//     batch's write lock, and forgets everything when it moved;
//   - a rollback (a caller's savepoint or a whole batch) may bring back
//     what was read after a change: everything is forgotten when the
//     writer's count of rollbacks (groupcommit.Tx.Undone) moved.
//
// Only the writer goroutine uses it (inside write transactions), so it
// needs no lock.
type availability struct {
	batch   uint64 // the batch whose data_version was read (groupcommit.Tx.Batch)
	version int64  // PRAGMA data_version of the writer's connection as of then
	undone  uint64 // the writer's rollbacks as of then (groupcommit.Tx.Undone)
	known   map[auth.Tenant]bool
}

// hasAvailable reports whether tenant has an available responder anywhere,
// as tx sees the database: from what is known, else read
// (anyAvailable) and kept.
func (a *availability) hasAvailable(ctx context.Context, tx *writeTx, tenant auth.Tenant) (bool, error) {
	if err := a.check(ctx, tx); err != nil {
		return false, err
	}
	if some, ok := a.known[tenant]; ok {
		return some, nil
	}
	var some bool
	if err := tx.Hot().QueryRowContext(ctx, anyAvailable, tenant.OrgID, tenant.Env).Scan(&some); err != nil {
		return false, err
	}
	if a.known == nil {
		a.known = map[auth.Tenant]bool{}
	}
	a.known[tenant] = some
	return some, nil
}

// anyAvailable reports whether the tenant (?1, ?2) has an available
// responder: the rows responders_available holds (putResponder keeps an
// entry there exactly for the available ones), found through the
// responders' tenant key, at the first.
const anyAvailable = `SELECT EXISTS (SELECT 1 FROM responders WHERE org_id = ? AND environment = ? AND status = 'available')`

// check forgets everything when another connection has committed since
// the knowledge was read (data_version, read once a batch) or the writer
// has rolled something back.
func (a *availability) check(ctx context.Context, tx *writeTx) error {
	if undone := tx.Undone(); undone != a.undone {
		clear(a.known)
		a.undone = undone
	}
	if batch := tx.Batch(); batch != a.batch {
		var version int64
		if err := tx.Hot().QueryRowContext(ctx, `PRAGMA data_version`).Scan(&version); err != nil {
			return err
		}
		if version != a.version {
			clear(a.known)
			a.version = version
		}
		a.batch = batch
	}
	return nil
}

// forget drops what is known of tenant's pool: it is about to change.
func (a *availability) forget(tenant auth.Tenant) { delete(a.known, tenant) }

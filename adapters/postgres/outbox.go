package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/outbox"
)

type outboxReader DB

// insertEvents adds events to the outbox, unpublished, with the commit:
// they go out last, under the outbox lock (see queueEvents), right before
// COMMIT in the same batch, so the lock is held for no round trip.
func (t *txn) insertEvents(events []outbox.Event) {
	if len(events) > 0 {
		queueEvents(&t.tail, events)
	}
}

// queueEvents queues on b the outbox lock and the inserts of events. The
// lock is transaction-scoped: one transaction at a time, in every instance,
// draws positions, and it draws them only after the previous holder's
// commit became visible (PostgreSQL makes a commit visible before it
// releases the transaction's locks). So a later commit gets a higher
// position, and whoever sees position p sees every committed event below
// it. Nothing that can wait on another transaction may follow in the
// transaction: it would hold every writer of events up.
func queueEvents(b *pgx.Batch, events []outbox.Event) {
	b.Queue(`SELECT pg_advisory_xact_lock($1)`, lockOutbox)
	for _, ev := range events {
		b.Queue(`INSERT INTO outbox_events (id, org_id, environment, type, subject_id, sequence, data, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			ev.ID, ev.OrgID, ev.Environment, ev.Type, ev.SubjectID, ev.Sequence, string(ev.Data), at(ev.CreatedAt))
	}
}

func (r *outboxReader) PendingEvents(ctx context.Context, limit int) ([]outbox.Event, error) {
	return pendingEvents(ctx, r.pool, limit)
}

const (
	eventColumns = sqlstore.EventColumns
	selectEvent  = `SELECT ` + eventColumns + ` FROM outbox_events`
)

func scanEvent(row rowScanner) (outbox.Event, error) { return sqlstore.ScanEvent(row, fromAt) }

// pendingEvents lists unpublished events in commit order.
func pendingEvents(ctx context.Context, q querier, limit int) ([]outbox.Event, error) {
	return queryAll(ctx, q, scanEvent, selectEvent+` WHERE published_at IS NULL ORDER BY position LIMIT $1`, limit)
}

// EventLog returns the committed outbox in commit order: positions are
// drawn under the outbox lock, in commit order (see queueEvents), so a
// reader resuming after the last position it saw misses nothing.
func (db *DB) EventLog() outbox.Log { return (*outboxReader)(db) }

// EventsAfter reads the head and the events after after up to it in one
// snapshot (a read-only REPEATABLE READ transaction, sent as one batch), so
// a short page says the reader has looked as far as the head. Only the
// filter's non-empty fields become conditions, so a tenant's reader goes
// through the tenant's index.
func (r *outboxReader) EventsAfter(ctx context.Context, after int64, f outbox.Filter, limit int) ([]outbox.Event, int64, error) {
	l := list{Sel: selectEvent, Order: `position`}
	l.And(`position > ? AND position <= (SELECT coalesce(max(position), 0) FROM outbox_events)`, after)
	if f.OrgID != "" {
		l.And(`org_id = ?`, f.OrgID)
	}
	if f.Environment != "" {
		l.And(`environment = ?`, f.Environment)
	}
	if f.TypePrefix != "" {
		l.And(`starts_with(type, ?)`, f.TypePrefix)
	}
	query := sqlstore.Numbered(l.Query() + ` LIMIT ?`)
	b := &pgx.Batch{}
	b.Queue(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`)
	b.Queue(`SELECT coalesce(max(position), 0) FROM outbox_events`)
	b.Queue(query, append(l.Args, limit)...)
	b.Queue(`COMMIT`)
	var (
		head   int64
		events []outbox.Event
	)
	err := readBatch(ctx, r.pool, b, func(br pgx.BatchResults) error {
		if err := br.QueryRow().Scan(&head); err != nil {
			return err
		}
		var err error
		events, err = scanRows(br, scanEvent)
		return err
	})
	if err != nil {
		return nil, after, err
	}
	if len(events) == limit {
		return events, events[len(events)-1].Position, nil
	}
	return events, max(after, head), nil
}

func (r *outboxReader) Head(ctx context.Context) (int64, error) {
	return head(ctx, r.pool)
}

// head is the position of the newest event q sees, 0 when none.
func head(ctx context.Context, q querier) (int64, error) {
	var head int64
	err := q.QueryRow(ctx, `SELECT coalesce(max(position), 0) FROM outbox_events`).Scan(&head)
	return head, translate(err)
}

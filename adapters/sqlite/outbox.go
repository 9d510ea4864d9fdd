package sqlite

import (
	"context"
	"database/sql"

	"github.com/sety-io/sety/outbox"
)

type outboxReader DB

func insertEvents(ctx context.Context, tx *writeTx, events []outbox.Event) error {
	for _, ev := range events {
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbox_events
			(id, org_id, environment, type, subject_id, sequence, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			ev.ID, ev.OrgID, ev.Environment, ev.Type, ev.SubjectID, ev.Sequence, string(ev.Data), ev.CreatedAt.UnixMilli()); err != nil {
			return err
		}
	}
	return nil
}

func (r *outboxReader) PendingEvents(ctx context.Context, limit int) ([]outbox.Event, error) {
	events, err := pendingEvents(ctx, r.read, limit)
	return events, translate(err)
}

const selectEvent = `SELECT id, org_id, environment, type, subject_id, sequence, data, created_at FROM outbox_events`

func scanEvent(row rowScanner) (outbox.Event, error) {
	var (
		ev   outbox.Event
		data string
		at   sql.NullInt64
	)
	err := row.Scan(&ev.ID, &ev.OrgID, &ev.Environment, &ev.Type, &ev.SubjectID, &ev.Sequence, &data, &at)
	ev.Data, ev.CreatedAt = []byte(data), fromMillis(at)
	return ev, err
}

// pendingEvents lists unpublished events in commit order.
func pendingEvents(ctx context.Context, q querier, limit int) ([]outbox.Event, error) {
	return queryAll(ctx, q, scanEvent, selectEvent+` WHERE published_at IS NULL ORDER BY position LIMIT ?`, limit)
}

package sqlite

import (
	"context"
	"database/sql"

	"github.com/sety-io/sety/outbox"
)

type outboxReader DB

func insertEvents(ctx context.Context, tx *sql.Tx, events []outbox.Event) error {
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
	rows, err := r.read.QueryContext(ctx, `SELECT id, org_id, environment, type, subject_id, sequence, data, created_at
		FROM outbox_events WHERE published_at IS NULL ORDER BY position LIMIT ?`, limit)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []outbox.Event
	for rows.Next() {
		var (
			ev   outbox.Event
			data string
			at   sql.NullInt64
		)
		if err := rows.Scan(&ev.ID, &ev.OrgID, &ev.Environment, &ev.Type, &ev.SubjectID, &ev.Sequence, &data, &at); err != nil {
			return nil, translate(err)
		}
		ev.Data, ev.CreatedAt = []byte(data), fromMillis(at)
		out = append(out, ev)
	}
	return out, translate(rows.Err())
}

package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sety-io/sety/outbox"
)

type outboxReader DB

// insertEvents adds events to the outbox inside tx, unpublished: the
// position is the table's sequence, the publish_seq comes at publication.
func insertEvents(ctx context.Context, tx pgx.Tx, events []outbox.Event) error {
	if len(events) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, ev := range events {
		queueEvent(b, ev)
	}
	return tx.SendBatch(ctx, b).Close()
}

// queueEvent queues the insert of one unpublished event on b.
func queueEvent(b *pgx.Batch, ev outbox.Event) {
	b.Queue(`INSERT INTO outbox_events (id, org_id, environment, type, subject_id, sequence, data, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		ev.ID, ev.OrgID, ev.Environment, ev.Type, ev.SubjectID, ev.Sequence, string(ev.Data), at(ev.CreatedAt))
}

func (r *outboxReader) PendingEvents(ctx context.Context, limit int) ([]outbox.Event, error) {
	return pendingEvents(ctx, r.pool, limit)
}

const (
	eventColumns = `id, org_id, environment, type, subject_id, sequence, data, created_at`
	selectEvent  = `SELECT ` + eventColumns + ` FROM outbox_events`
)

func scanEvent(row rowScanner) (outbox.Event, error) {
	var (
		ev   outbox.Event
		data string
		t    pgtype.Timestamptz
	)
	err := row.Scan(&ev.ID, &ev.OrgID, &ev.Environment, &ev.Type, &ev.SubjectID, &ev.Sequence, &data, &t)
	ev.Data, ev.CreatedAt = []byte(data), fromAt(t)
	return ev, err
}

// pendingEvents lists unpublished events by position: the order they were
// inserted in, which for the events of one subject is the order they were
// committed in (a subject's changes hold its row lock until they commit).
func pendingEvents(ctx context.Context, q querier, limit int) ([]outbox.Event, error) {
	return queryAll(ctx, q, scanEvent, selectEvent+` WHERE published_at IS NULL ORDER BY position LIMIT $1`, limit)
}

// lockPublisher takes the publisher's lock in tx, held until tx ends, and
// returns the last publish_seq given out. One transaction at a time holds
// it, and PostgreSQL makes a transaction's commit visible before it
// releases its locks, so the next holder's statements see every event the
// previous one published.
func lockPublisher(ctx context.Context, tx pgx.Tx) (int64, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockPublish); err != nil {
		return 0, err
	}
	var last int64
	err := tx.QueryRow(ctx, `SELECT last_seq FROM outbox_publisher`).Scan(&last)
	return last, err
}

// PublishedEvent is an event with its place in the publication order.
type PublishedEvent struct {
	outbox.Event
	// Seq is the event's publish_seq: every published event has one, in
	// the order they were published, without gaps.
	Seq int64
}

// PublishedEvents returns up to limit published events whose publish_seq
// is above after, in publish_seq order. A reader that tails the outbox
// with it (remembering the last Seq it read) never skips an event: an
// event is visible here only once published, and every event published
// later gets a higher Seq. Tailing by position instead would skip
// events: see the package documentation.
func (db *DB) PublishedEvents(ctx context.Context, after int64, limit int) ([]PublishedEvent, error) {
	return queryAll(ctx, db.pool, func(row rowScanner) (PublishedEvent, error) {
		var (
			pe   PublishedEvent
			data string
			t    pgtype.Timestamptz
		)
		err := row.Scan(&pe.Seq, &pe.ID, &pe.OrgID, &pe.Environment, &pe.Type, &pe.SubjectID, &pe.Sequence, &data, &t)
		pe.Data, pe.CreatedAt = []byte(data), fromAt(t)
		return pe, err
	}, `SELECT publish_seq, id, org_id, environment, type, subject_id, sequence, data, created_at FROM outbox_events
		WHERE publish_seq > $1 ORDER BY publish_seq LIMIT $2`, after, limit)
}

package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/outbox"
)

type outboxReader DB

// insertEvents adds events to the outbox with the commit, in one statement
// and without a position: the sequencer gives them theirs once they are
// committed (see sequence). No lock is taken: concurrent transactions
// insert their events side by side.
func (t *txn) insertEvents(events []outbox.Event) {
	if len(events) > 0 {
		queueEvents(&t.tail, events)
	}
}

// queueEvents queues on b the insert of events, in their order: a
// multi-row VALUES list draws their insertion numbers (seq) row by row, so
// one transaction's events of one subject keep their sequence order in the
// log.
func queueEvents(b *pgx.Batch, events []outbox.Event) {
	var sql strings.Builder
	sql.WriteString(`INSERT INTO outbox_events (id, org_id, environment, type, subject_id, sequence, data, created_at) VALUES `)
	args := make([]any, 0, 8*len(events))
	for i, ev := range events {
		if i > 0 {
			sql.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&sql, "($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8)
		args = append(args, ev.ID, ev.OrgID, ev.Environment, ev.Type, ev.SubjectID, ev.Sequence, string(ev.Data), at(ev.CreatedAt))
	}
	b.Queue(sql.String(), args...)
}

func (r *outboxReader) PendingEvents(ctx context.Context, limit int) ([]outbox.Event, error) {
	return pendingEvents(ctx, r.pool, limit)
}

const (
	eventColumns = sqlstore.EventColumns
	selectEvent  = `SELECT ` + eventColumns + ` FROM outbox_events`
	// fanOutCursor is the position fan-out has reached: every event at or
	// before it is published.
	fanOutCursor = `(SELECT position FROM outbox_cursors WHERE name = 'fan-out')`
	// waiting is the condition of an event committed without a position
	// yet: no such event has a writer below the sequencer's horizon
	// (migration 0012), so the look starts there, through outbox_waiting.
	waiting = `position IS NULL AND xid >= (SELECT horizon FROM outbox_sequencer)`
)

// waitingColumnsOf is eventColumns, qualified by prefix, of an event that
// may have no position yet (0 then, as outbox.Event says): a ping's, whose
// delivery may be claimed before the sequencer's next run.
func waitingColumnsOf(prefix string) string {
	cols := strings.TrimSuffix(eventColumns, "position")
	return prefixed(prefix, strings.TrimSuffix(cols, ", ")) + ", coalesce(" + prefix + "position, 0)"
}

func scanEvent(row rowScanner) (outbox.Event, error) { return sqlstore.ScanEvent(row, fromAt) }

// pendingEvents lists the unpublished events: those fan-out has not taken
// (no position yet, or past its cursor) that are to fan out (not a ping),
// in log order, then those still waiting for a position in insertion
// order.
func pendingEvents(ctx context.Context, q querier, limit int) ([]outbox.Event, error) {
	return queryAll(ctx, q, scanEvent, `SELECT `+waitingColumnsOf("")+` FROM outbox_events
		WHERE (`+waiting+` OR position > `+fanOutCursor+`) AND published_at IS NULL
		ORDER BY position NULLS LAST, seq LIMIT $1`, limit)
}

// EventLog returns the committed outbox in log order: a position is given
// to an event only once it is committed, always the next one, so a reader
// resuming after the last position it saw misses nothing (see sequence).
func (db *DB) EventLog() outbox.Log { return (*outboxReader)(db) }

// EventsAfter positions what was committed before the call (sequence),
// then reads the head and the events after after up to it in one snapshot
// (a read-only REPEATABLE READ transaction, sent as one batch), so a short
// page says the reader has looked as far as the head. Only the filter's
// non-empty fields become conditions, so a tenant's reader goes through
// the tenant's index.
func (r *outboxReader) EventsAfter(ctx context.Context, after int64, f outbox.Filter, limit int) ([]outbox.Event, int64, error) {
	if err := (*DB)(r).sequence(ctx); err != nil {
		return nil, after, err
	}
	l := list{Sel: selectEvent, Order: `position`}
	l.And(`position > ? AND position <= (`+headQuery+`)`, after)
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
	b.Queue(headQuery)
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

// Head positions what was committed before the call, then returns the
// newest position.
func (r *outboxReader) Head(ctx context.Context) (int64, error) {
	if err := (*DB)(r).sequence(ctx); err != nil {
		return 0, err
	}
	return head(ctx, r.pool)
}

// headQuery is the newest position, 0 when none (through outbox_position).
const headQuery = `SELECT coalesce(max(position), 0) FROM outbox_events WHERE position IS NOT NULL`

// head is the newest position q sees, 0 when none.
func head(ctx context.Context, q querier) (int64, error) {
	var head int64
	err := q.QueryRow(ctx, headQuery).Scan(&head)
	return head, translate(err)
}

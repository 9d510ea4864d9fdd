package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/outbox"
)

type outboxReader DB

func (r *outboxReader) PendingEvents(ctx context.Context, limit int) ([]outbox.Event, error) {
	events, err := pendingEvents(ctx, r.read, limit)
	return events, translate(err)
}

const selectEvent = `SELECT ` + sqlstore.EventColumns + ` FROM outbox_events`

func scanEvent(row rowScanner) (outbox.Event, error) { return sqlstore.ScanEvent(row, fromMillis) }

// EventLog returns the committed outbox in commit order. Positions are the
// rowid SQLite assigns at insert, under its single writer: every process's
// commits are serialized, so a later commit always has a higher position.
func (db *DB) EventLog() outbox.Log { return (*outboxReader)(db) }

// EventsAfter reads the head and the events up to it in one snapshot, so
// a short page says the reader has looked as far as the head.
func (r *outboxReader) EventsAfter(ctx context.Context, after int64, f outbox.Filter, limit int) ([]outbox.Event, int64, error) {
	tx, err := r.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, after, translate(err)
	}
	defer tx.Rollback()
	var head sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT max(position) FROM outbox_events`).Scan(&head); err != nil {
		return nil, after, translate(err)
	}
	// The type prefix becomes a range on type, which an index can use.
	types, typeArgs := "", []any{}
	if len(f.Types) > 0 {
		types = ` AND type IN (?` + strings.Repeat(`, ?`, len(f.Types)-1) + `)`
		for _, t := range f.Types {
			typeArgs = append(typeArgs, t)
		}
	}
	args := append([]any{after, head.Int64, f.OrgID, f.OrgID, f.Environment, f.Environment, f.TypePrefix, f.TypePrefix + "\uffff"}, typeArgs...)
	events, err := queryAll(ctx, tx, scanEvent, selectEvent+` WHERE position > ? AND position <= ?
		AND (? = '' OR org_id = ?) AND (? = '' OR environment = ?) AND type >= ? AND type < ?`+types+`
		ORDER BY position LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, after, translate(err)
	}
	if len(events) == limit {
		return events, events[len(events)-1].Position, nil
	}
	return events, max(after, head.Int64), nil
}

func (r *outboxReader) Head(ctx context.Context) (int64, error) {
	var head sql.NullInt64
	err := r.read.QueryRowContext(ctx, `SELECT max(position) FROM outbox_events`).Scan(&head)
	return head.Int64, translate(err)
}

// pendingEvents lists unpublished events in commit order.
func pendingEvents(ctx context.Context, q querier, limit int) ([]outbox.Event, error) {
	return queryAll(ctx, q, scanEvent, selectEvent+` WHERE published_at IS NULL ORDER BY position LIMIT ?`, limit)
}

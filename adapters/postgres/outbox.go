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
	// loggedColumns are eventColumns of an event e of the log l, its
	// position the log's.
	loggedColumns = `e.id, e.org_id, e.environment, e.type, e.subject_id, e.sequence, e.data, e.created_at, l.position`
	fromLog       = ` FROM outbox_log l JOIN outbox_events e ON e.id = l.event_id`
	// selectLogged reads events of the log with their positions.
	selectLogged = `SELECT ` + loggedColumns + fromLog
	// selectLoggedEnvelopes reads them without their data (empty:
	// Filter.Envelopes), from the log alone, which holds their subjects
	// and sequences (migration 0028); an event's row only for a log row
	// without them (positioned before that migration), whose LATERAL
	// probe PostgreSQL skips for every other row (its condition on the
	// log row alone gates it).
	selectLoggedEnvelopes = `SELECT l.event_id, l.org_id, l.environment, l.type, coalesce(l.subject_id, e.subject_id, ''),
		coalesce(l.sequence, e.sequence, 0), '', l.created_at, l.position FROM outbox_log l
		LEFT JOIN LATERAL (SELECT subject_id, sequence FROM outbox_events WHERE l.subject_id IS NULL AND id = l.event_id LIMIT 1) e ON true`
	// selectLoggedBare reads envelopes from the log alone (Filter.Bare),
	// with the subjects and sequences the log holds and none for a row
	// without them: the threat feed, which reads every live create of
	// every instance so, needs none of them for this process's creates.
	selectLoggedBare = `SELECT l.event_id, l.org_id, l.environment, l.type, coalesce(l.subject_id, ''), coalesce(l.sequence, 0), '', l.created_at, l.position
		FROM outbox_log l`
	// fanOutCursor is the position fan-out has reached: every event at or
	// before it is published.
	fanOutCursor = `(SELECT position FROM outbox_cursors WHERE name = 'fan-out')`
)

// eventColumnsOf is eventColumns of the events table under alias, the
// position read from the log: 0 for an event not in it yet (a ping's,
// whose delivery may be claimed before the sequencer's next run).
func eventColumnsOf(alias string) string {
	cols := strings.TrimSuffix(strings.TrimSuffix(eventColumns, "position"), ", ")
	return prefixed(alias+".", cols) + ", coalesce((SELECT position FROM outbox_log WHERE event_id = " + alias + ".id), 0)"
}

func scanEvent(row rowScanner) (outbox.Event, error) { return sqlstore.ScanEvent(row, fromAt) }

// pendingEvents lists the unpublished events: those fan-out has not taken
// (not in the log yet, or past its cursor) that are to fan out (not a
// ping), in log order, then those not in the log in insertion order.
func pendingEvents(ctx context.Context, q querier, limit int) ([]outbox.Event, error) {
	return queryAll(ctx, q, scanEvent, `SELECT `+eventColumnsOf("e")+` FROM outbox_events e
		LEFT JOIN outbox_log l ON l.event_id = e.id
		WHERE (l.position IS NULL OR l.position > `+fanOutCursor+`) AND e.published_at IS NULL
		ORDER BY l.position NULLS LAST, e.seq LIMIT $1`, limit)
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
//
// A read bounded by f.Through reads what is in the log without running the
// sequencer: every event at or before a position a reader was given is in
// it already. The threat feed's second read of a catch-up (the data of
// another instance's creates) cost a run of its own (see "Two instances"
// in the package documentation).
func (r *outboxReader) EventsAfter(ctx context.Context, after int64, f outbox.Filter, limit int) ([]outbox.Event, int64, error) {
	l := sqlstore.List{Sel: selectLogged, Order: `l.position`}
	scan := scanEvent
	switch {
	case f.Envelopes && f.Bare:
		l.Sel = selectLoggedBare
	case f.Envelopes:
		l.Sel = selectLoggedEnvelopes
	case f.Brief:
		l.Sel, scan = selectLoggedBriefs, scanBrief // brief.go
	}
	b := &pgx.Batch{}
	b.Queue(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`)
	if f.Through > 0 {
		b.Queue(`SELECT least((`+headQuery+`), $1)`, f.Through)
		l.And(`l.position > ? AND l.position <= least((`+headQuery+`), ?)`, after, f.Through)
	} else {
		if err := (*DB)(r).sequence(ctx); err != nil {
			return nil, after, err
		}
		b.Queue(headQuery)
		l.And(`l.position > ? AND l.position <= (`+headQuery+`)`, after)
	}
	if f.OrgID != "" {
		l.And(`l.org_id = ?`, f.OrgID)
	}
	if f.Environment != "" {
		l.And(`l.environment = ?`, f.Environment)
	}
	if f.TypePrefix != "" {
		l.And(`starts_with(l.type, ?)`, f.TypePrefix)
	}
	if len(f.Types) > 0 {
		l.And(`l.type = ANY(?)`, f.Types)
	}
	if len(f.Positions) > 0 {
		l.And(`l.position = ANY(?)`, f.Positions)
	}
	query := sqlstore.Numbered(l.Query() + ` LIMIT ?`)
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
		events, err = scanRows(br, scan)
		return err
	})
	if err != nil {
		return nil, after, err
	}
	if f.Envelopes {
		for i := range events {
			events[i].Data = nil
		}
	}
	if len(events) == limit {
		return events, events[len(events)-1].Position, nil
	}
	return events, max(after, head), nil
}

// Head positions what was committed before the call unless a sequencer is
// running (whose events it would wait for), then returns the newest
// position. It never waits for the sequencer's lock: a stream starts from
// it (an instance's start must not wait on another's fan-out), and every
// position a reader was given is at or below it either way; events a
// running sequencer positions come after it.
func (r *outboxReader) Head(ctx context.Context) (int64, error) {
	if err := (*DB)(r).trySequence(ctx); err != nil {
		return 0, err
	}
	return head(ctx, r.pool)
}

// headQuery is the newest position, 0 when none.
const headQuery = `SELECT coalesce(max(position), 0) FROM outbox_log`

// head is the newest position q sees, 0 when none.
func head(ctx context.Context, q querier) (int64, error) {
	var head int64
	err := q.QueryRow(ctx, headQuery).Scan(&head)
	return head, translate(err)
}

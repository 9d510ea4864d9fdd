package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/sety-io/sety/outbox"
)

type outboxReader DB

// storedEvent is an event as its row keeps it: in full, or (base >= 0)
// as a delta against the data of the event base places before it in the
// same insert (eventdelta.go).
type storedEvent struct {
	outbox.Event
	base  int
	delta []byte
	args  []any // of insertEvent, all but the base's position (argBase)
}

// insertEvent is the insert of one event; argBase is the index of its
// base's position among the arguments. The data is bound as the event's
// bytes, without a Go string's copy of them (the driver copies its
// arguments into SQLite's memory anyway), and stored as TEXT through the
// CAST: a []byte binds as a BLOB, which the STRICT table's TEXT column
// refuses and SQLite's json functions would read as JSONB
// (TestEventDataIsStoredAsText).
const insertEvent = `INSERT INTO outbox_events
	(id, org_id, environment, type, subject_id, sequence, data, created_at, base, delta)
	VALUES (?, ?, ?, ?, ?, ?, CAST(? AS TEXT), ?, ?, ?)`

const argBase = 8

// deltaReach is how far ahead of its base an event may be stored as a
// delta: PurgeEvents looks that far for events that still need a base.
const deltaReach = 8

// packEvents decides how events are stored: an incident's later events in
// one transaction (a create's incident.dispatching after its
// incident.created) as deltas against its first one's data when that
// saves at least half, the others in full. It is pure, so a caller can run
// it before its write transaction, off the writer, and it builds each
// insert's arguments there too (the time's milliseconds): the writer only
// adds a delta's base position.
func packEvents(events []outbox.Event) []storedEvent {
	out := make([]storedEvent, len(events))
	for i, ev := range events {
		out[i] = storedEvent{Event: ev, base: -1}
		for k := max(0, i-deltaReach+1); k < i; k++ {
			if out[k].base < 0 && events[k].SubjectID == ev.SubjectID {
				if d := deltaOf(events[k].Data, ev.Data); d != nil {
					out[i].base, out[i].delta = k, d
				}
				break
			}
		}
		// A delta's event keeps no copy of its data: ''. An empty []byte
		// would bind NULL (SQLite's bind of a blob without memory).
		var data any = ""
		if out[i].base < 0 && len(ev.Data) > 0 {
			data = []byte(ev.Data)
		}
		out[i].args = []any{ev.ID, ev.OrgID, ev.Environment, ev.Type, ev.SubjectID, ev.Sequence, data, ev.CreatedAt.UnixMilli(),
			sql.NullInt64{}, out[i].delta}
	}
	return out
}

// insertPacked inserts events as packEvents decided, one after another, so
// that a delta's base is at most deltaReach positions before it.
func insertPacked(ctx context.Context, tx *writeTx, events []storedEvent) error {
	positions := make([]int64, len(events))
	for i, ev := range events {
		if ev.base >= 0 {
			ev.args[argBase] = sql.NullInt64{Int64: positions[ev.base], Valid: true}
		}
		res, err := tx.ExecContext(ctx, insertEvent, ev.args...)
		if err != nil {
			return err
		}
		if positions[i], err = res.LastInsertId(); err != nil {
			return err
		}
	}
	return nil
}

func (r *outboxReader) PendingEvents(ctx context.Context, limit int) ([]outbox.Event, error) {
	events, err := pendingEvents(ctx, r.read, limit)
	return events, translate(err)
}

// selectEvent reads events as e, each with its base's data when it is
// stored as a delta.
const selectEvent = `SELECT e.id, e.org_id, e.environment, e.type, e.subject_id, e.sequence, e.data, e.created_at, e.position,
	e.delta, b.data FROM outbox_events e LEFT JOIN outbox_events b ON b.position = e.base`

// scanEvent reads an event of selectEvent, its data as it was written.
func scanEvent(row rowScanner) (outbox.Event, error) {
	var (
		ev       outbox.Event
		data     string
		at       sql.NullInt64
		delta    []byte
		baseData sql.NullString
	)
	if err := row.Scan(&ev.ID, &ev.OrgID, &ev.Environment, &ev.Type, &ev.SubjectID, &ev.Sequence, &data, &at, &ev.Position,
		&delta, &baseData); err != nil {
		return ev, err
	}
	ev.CreatedAt = fromMillis(at)
	if delta == nil {
		ev.Data = []byte(data)
		return ev, nil
	}
	if !baseData.Valid {
		return ev, fmt.Errorf("sqlite: the base of event %s is gone", ev.ID)
	}
	rebuilt, err := applyDelta([]byte(baseData.String), delta)
	if err != nil {
		return ev, fmt.Errorf("event %s: %w", ev.ID, err)
	}
	ev.Data = rebuilt
	return ev, nil
}

// EventLog returns the committed outbox in commit order. Positions are the
// rowid SQLite assigns at insert, under its single writer: every process's
// commits are serialized, so a later commit always has a higher position.
func (db *DB) EventLog() outbox.Log { return (*outboxReader)(db) }

// eventsAfter lists the events in the positions (?1, ?2] whose type is
// from ?3 to ?4, of environment ?6 and organization ?7 ("" for any): a
// range of the table's key, read until the page (?5) is full (the threat
// feed and the stream's hub follow every tenant). A query adds
// in and orderedPage.
const eventsAfter = selectEvent + ` WHERE e.position > ?1 AND e.position <= ?2 AND e.type >= ?3 AND e.type < ?4
	AND (?6 = '' OR e.environment = ?6) AND (?7 = '' OR e.org_id = ?7)`

// tenantEventsAfter is eventsAfter of one tenant (?6, ?7 both set): a
// range of outbox_tenant, in position order, so a stream that resumes
// reads its tenant's events, not every tenant's since its position.
const tenantEventsAfter = selectEvent + ` WHERE e.org_id = ?7 AND e.environment = ?6
	AND e.position > ?1 AND e.position <= ?2 AND e.type >= ?3 AND e.type < ?4`

// selectEnvelope reads events as e as selectEvent does, without their
// data (empty; Filter.Envelopes): no payload is copied, no delta applied.
const selectEnvelope = `SELECT e.id, e.org_id, e.environment, e.type, e.subject_id, e.sequence, '', e.created_at, e.position,
	NULL, NULL FROM outbox_events e`

// orderedPage ends an events query: position order, up to ?5.
const orderedPage = ` ORDER BY e.position LIMIT ?5`

// in is the condition that column is one of n values, the arguments
// ?first on: Filter.Types and Filter.Positions.
func in(column string, n, first int) string {
	if n == 0 {
		return ""
	}
	marks := make([]string, n)
	for i := range marks {
		marks[i] = "?" + strconv.Itoa(first+i)
	}
	return ` AND ` + column + ` IN (` + strings.Join(marks, ", ") + `)`
}

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
	if f.Through > 0 {
		head.Int64 = min(head.Int64, f.Through)
	}
	// The type prefix becomes a range on type.
	query := eventsAfter
	if f.OrgID != "" && f.Environment != "" {
		query = tenantEventsAfter
	}
	if f.Envelopes {
		query = selectEnvelope + strings.TrimPrefix(query, selectEvent)
	}
	args := []any{after, head.Int64, f.TypePrefix, f.TypePrefix + "\uffff", limit, f.Environment, f.OrgID}
	for _, t := range f.Types {
		args = append(args, t)
	}
	positions := in("e.position", len(f.Positions), len(args)+1)
	for _, p := range f.Positions {
		args = append(args, p)
	}
	events, err := queryAll(ctx, tx, scanEvent, query+in("e.type", len(f.Types), 8)+positions+orderedPage, args...)
	if err != nil {
		return nil, after, translate(err)
	}
	if f.Envelopes {
		for i := range events {
			events[i].Data = nil
		}
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

// unpublished is the condition of the events not yet fanned out: above the
// fan-out's watermark (migrations/0020_fanout_watermark.sql), a range of
// the table's key, and not published at insert (a ping's event).
const unpublished = ` WHERE e.position > (SELECT position FROM outbox_fanout) AND e.published_at IS NULL`

// subscribedEnvelopes lists, in commit order, the unpublished events of
// the tenants that have a webhook endpoint (enabled or not), without their
// data, which the fan-out's plan does not read (a delivery reads its
// event's data when it is sent): no payload is copied out, and no delta
// applied to its base, inside the writer. An event of a tenant without an
// endpoint has no delivery to plan, and SQLite passes it over without
// handing it to Go (a row's scan into an outbox.Event was most of the
// fan-out's cost under a load of creates). An endpoint is created in a
// write transaction, so under the write lock the fan-out sees every
// endpoint plan would have been given.
func subscribedEnvelopes(ctx context.Context, q querier, limit int) ([]outbox.Event, error) {
	return queryAll(ctx, q, scanEnvelope, selectSubscribed, limit)
}

// selectSubscribed is the query of subscribedEnvelopes: a range of the
// table's key, each event's tenant looked up in webhook_endpoints_tenant.
const selectSubscribed = `SELECT e.id, e.org_id, e.environment, e.type, e.subject_id, e.sequence, e.created_at, e.position
	FROM outbox_events e` + unpublished + ` AND EXISTS (SELECT 1 FROM webhook_endpoints w INDEXED BY webhook_endpoints_tenant
		WHERE w.org_id = e.org_id AND w.environment = e.environment)
	ORDER BY e.position LIMIT ?`

// headPosition is the newest event's position (0: none).
const headPosition = `SELECT coalesce(max(position), 0) FROM outbox_events`

// scanEnvelope reads an event of selectSubscribed.
func scanEnvelope(row rowScanner) (ev outbox.Event, err error) {
	var at sql.NullInt64
	err = row.Scan(&ev.ID, &ev.OrgID, &ev.Environment, &ev.Type, &ev.SubjectID, &ev.Sequence, &at, &ev.Position)
	ev.CreatedAt = fromMillis(at)
	return ev, err
}

// selectPending is the query of pendingEvents.
const selectPending = selectEvent + unpublished + ` ORDER BY e.position LIMIT ?`

// pendingEvents lists unpublished events in commit order.
func pendingEvents(ctx context.Context, q querier, limit int) ([]outbox.Event, error) {
	return queryAll(ctx, q, scanEvent, selectPending, limit)
}

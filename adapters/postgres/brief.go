package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/outbox"
)

// A read of the log with outbox.Filter.Brief answers an incident.created
// event with a brief of it (outbox.Brief), read from its incident's row,
// instead of the event's snapshot: what the threat feed reads of a create
// (category, severity, location, drill, creation time) a create writes
// once into the row's own columns, and no change of the incident alters
// it. With two instances, each one's feed read the full snapshot of every
// create of the other (its timeline, subject and metadata), a tenth of a
// server's CPU at 64 clients (bench/README.md, "what a second server
// costs"); the brief is the row's fixed-width columns, found through the
// incidents' primary key: one probe per create (a LATERAL subquery with
// a LIMIT is never turned into a join of the whole table, see migration
// 0017), none for another event. Nothing more is written at a create.
//
// The incident's id is the log row's subject (migration 0028), so a
// create's brief is a probe of the log and one of the incidents, not of
// the event's row as well (its key, and a heap page of payloads): with
// two servers that read was the feed's costliest statement. The event's
// row is read, with its data, for every event without a brief: another
// event, a create whose incident's row is not found, and a log row
// without a subject (positioned before migration 0028), whose subject
// and sequence it gives too. Its LATERAL probe's condition is on the rows
// before it alone, so PostgreSQL skips the probe for a brief.
const selectLoggedBriefs = `SELECT l.event_id, l.org_id, l.environment, l.type, coalesce(l.subject_id, e.subject_id, ''),
		coalesce(l.sequence, e.sequence, 0), e.data, l.created_at, l.position,
		i.category, i.severity, i.lng, i.lat, i.is_drill, i.created_at FROM outbox_log l
	LEFT JOIN LATERAL (SELECT category, severity, lng, lat, is_drill, created_at FROM incidents
		WHERE l.type = 'incident.created' AND id = l.subject_id LIMIT 1) i ON true
	LEFT JOIN LATERAL (SELECT subject_id, sequence, data FROM outbox_events
		WHERE (i.category IS NULL OR l.subject_id IS NULL) AND id = l.event_id LIMIT 1) e ON true`

// scanBrief scans a row of selectLoggedBriefs: the event, its brief
// (outbox.Brief, Data nil) when its incident's row was found, its data
// otherwise. The brief was written as JSON here and decoded again by the
// feed, a round trip through JSON for five fixed-width columns.
func scanBrief(row rowScanner) (outbox.Event, error) {
	var (
		ev       outbox.Event
		data     *string
		at, made pgtype.Timestamptz
		category *string
		severity *string
		lng, lat *float64
		drill    *bool
	)
	if err := row.Scan(&ev.ID, &ev.OrgID, &ev.Environment, &ev.Type, &ev.SubjectID, &ev.Sequence, &data, &at, &ev.Position,
		&category, &severity, &lng, &lat, &drill, &made); err != nil {
		return ev, err
	}
	ev.CreatedAt = fromAt(at)
	if data != nil || category == nil {
		if data != nil {
			ev.Data = []byte(*data)
		}
		return ev, nil
	}
	ev.Brief = &outbox.Brief{Category: *category, Severity: *severity, Location: geo.Point{*lng, *lat}, IsDrill: *drill,
		CreatedAt: fromAt(made)}
	return ev, nil
}

// selectBriefs reads the briefs of creates by their incidents' ids
// (Briefs): the incidents' primary key and rows alone, in one statement
// outside a transaction.
const selectBriefs = `SELECT id, category, severity, lng, lat, is_drill, created_at FROM incidents WHERE id = ANY($1)`

// Briefs reads the briefs of incident.created events by their subjects
// (outbox.Briefer), from the incidents' rows: the threat feed has read
// another instance's creates from the log already, subjects included
// (migration 0028), and needs only what each create fixed of its
// incident. A read of the log by positions with Filter.Brief probed the
// log again for each, and cost a read-only transaction of four statements
// (its head, BEGIN and COMMIT) per catch-up.
func (r *outboxReader) Briefs(ctx context.Context, subjects []string) (map[string]outbox.Brief, error) {
	rows, err := r.pool.Query(ctx, selectBriefs, subjects)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	briefs := make(map[string]outbox.Brief, len(subjects))
	for rows.Next() {
		var (
			id   string
			b    outbox.Brief
			made pgtype.Timestamptz
		)
		if err := rows.Scan(&id, &b.Category, &b.Severity, &b.Location[0], &b.Location[1], &b.IsDrill, &made); err != nil {
			return nil, translate(err)
		}
		b.CreatedAt = fromAt(made)
		briefs[id] = b
	}
	return briefs, translate(rows.Err())
}

var _ outbox.Briefer = (*outboxReader)(nil)

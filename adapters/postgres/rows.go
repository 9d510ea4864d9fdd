package postgres

import (
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
)

// The inserts of a group of creates (group.go): one statement for every
// incident of the group, one for every event, each row's values passed as
// arrays, a column each, and turned back into rows by unnest. One
// statement of n rows costs PostgreSQL one parse, plan and executor start
// instead of n, and its text is the same for any n, so pgx prepares it
// once per connection (a multi-row VALUES list would be a new statement,
// with a round trip to prepare it, for every size of group).

// incidentColumnTypes are the types of insertIncident's columns, in its
// order (sqlstore.InsertIncident; migration 0001).
var incidentColumnTypes = []string{
	"text", "text", "text", "text", "timestamptz", // id, org_id, environment, idempotency_key, created_at
	"text", "text", "smallint", "text", "boolean", "bigint", "timestamptz", // category, severity, severity_rank, status, is_drill, sequence, updated_at
	"text", "text", "timestamptz", "bigint", "bigint", "text", // doc, tracking, due_at, assign_ms, arrive_ms, sla_state
	"float8", "float8", "boolean", // lng, lat, counts_as_threat
}

// insertIncidentRows inserts the rows of incidentColumnTypes' arrays.
var insertIncidentRows = func() string {
	columns, _, _ := strings.Cut(sqlstore.InsertIncident, "VALUES")
	var sql strings.Builder
	sql.WriteString(strings.TrimSpace(columns))
	sql.WriteString(" SELECT * FROM unnest(")
	for i, typ := range incidentColumnTypes {
		if i > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString("$" + strconv.Itoa(i+1) + "::" + typ + "[]")
	}
	sql.WriteString(")")
	return sql.String()
}()

// queueIncidentRows queues on b the insert of the incidents of cs, in one
// statement.
func queueIncidentRows(b *pgx.Batch, cs []*grouped) {
	columns := make([]any, len(incidentColumnTypes))
	for j := range columns {
		column := make([]any, len(cs))
		for i, c := range cs {
			column[i] = c.row[j]
		}
		columns[j] = column
	}
	b.Queue(insertIncidentRows, columns...)
}

// insertEventRows inserts events from arrays in their order (WITH
// ORDINALITY ... ORDER BY): each row draws its insertion number (seq) in
// turn, so one create's events of one subject keep their sequence order
// in the log, as queueEvents' VALUES list does.
const insertEventRows = `INSERT INTO outbox_events (id, org_id, environment, type, subject_id, sequence, data, created_at)
	SELECT id, org_id, environment, type, subject_id, sequence, data, created_at
	FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::timestamptz[])
		WITH ORDINALITY AS e(id, org_id, environment, type, subject_id, sequence, data, created_at, n)
	ORDER BY n`

// queueEventRows queues on b the insert of the events of cs, in one
// statement, if there are any.
func queueEventRows(b *pgx.Batch, cs []*grouped) {
	n := 0
	for _, c := range cs {
		n += len(c.events)
	}
	if n == 0 {
		return
	}
	var (
		ids, orgs, envs, types, subjects, data = make([]string, 0, n), make([]string, 0, n), make([]string, 0, n),
			make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		sequences = make([]int64, 0, n)
		created   = make([]pgtype.Timestamptz, 0, n)
	)
	for _, c := range cs {
		for _, ev := range c.events {
			ids, orgs, envs = append(ids, ev.ID), append(orgs, ev.OrgID), append(envs, ev.Environment)
			types, subjects, sequences = append(types, ev.Type), append(subjects, ev.SubjectID), append(sequences, ev.Sequence)
			data, created = append(data, string(ev.Data)), append(created, at(ev.CreatedAt))
		}
	}
	b.Queue(insertEventRows, ids, orgs, envs, types, subjects, sequences, data, created)
}

package postgres

import (
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
)

// The inserts of a group of creates (group.go): one statement inserts
// every incident of the group and every event, each row's values passed
// as arrays, a column each, and turned back into rows by unnest. One
// statement of n rows costs PostgreSQL one parse, plan and executor start
// instead of n, and its text is the same for any n, so pgx prepares it
// once per connection (a multi-row VALUES list would be a new statement,
// with a round trip to prepare it, for every size of group). The
// incidents' insert is a data-modifying WITH of the events' insert: one
// statement for PostgreSQL to bind, start and answer per group, not two,
// and one set of parameters to encode, into a buffer the group keeps
// (groupsend.go).

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

// incidentColumns are insertIncidentRows' arguments for the incidents of
// cs: each column a slice of its values' Go type, which the group's
// buffer encodes itself (grouparrays.go), or a []any when its rows'
// values differ in type, which pgx encodes.
func incidentColumns(cs []*grouped) []any {
	columns := make([]any, len(incidentColumnTypes))
	for j := range columns {
		columns[j] = incidentColumn(cs, j)
	}
	return columns
}

// incidentColumn is column j of the rows of cs (see incidentColumns).
func incidentColumn(cs []*grouped, j int) any {
	var (
		column any
		ok     bool
	)
	switch cs[0].row[j].(type) {
	case string:
		column, ok = typedColumn[string](cs, j)
	case *string:
		column, ok = typedColumn[*string](cs, j)
	case int:
		column, ok = typedColumn[int](cs, j)
	case int64:
		column, ok = typedColumn[int64](cs, j)
	case *int64:
		column, ok = typedColumn[*int64](cs, j)
	case bool:
		column, ok = typedColumn[bool](cs, j)
	case float64:
		column, ok = typedColumn[float64](cs, j)
	case pgtype.Timestamptz:
		column, ok = typedColumn[pgtype.Timestamptz](cs, j)
	}
	if ok {
		return column
	}
	values := make([]any, len(cs))
	for i, c := range cs {
		values[i] = c.row[j]
	}
	return values
}

// typedColumn is column j of the rows of cs as a []T, if every value is a T.
func typedColumn[T any](cs []*grouped, j int) ([]T, bool) {
	column := make([]T, len(cs))
	for i, c := range cs {
		v, ok := c.row[j].(T)
		if !ok {
			return nil, false
		}
		column[i] = v
	}
	return column, true
}

// insertGroupRows inserts the incidents of incidentColumnTypes' arrays
// and then the events of the eight arrays after them, in their order
// (WITH ORDINALITY ... ORDER BY): each event draws its insertion number
// (seq) in turn, so one create's events of one subject keep their
// sequence order in the log, as queueEvents' VALUES list does. Both
// inserts see the same snapshot and neither reads the other's table.
var insertGroupRows = func() string {
	n := len(incidentColumnTypes)
	p := func(i int) string { return "$" + strconv.Itoa(n+i) }
	return `WITH inserted_incidents AS (` + insertIncidentRows + `)
	INSERT INTO outbox_events (id, org_id, environment, type, subject_id, sequence, data, created_at)
	SELECT id, org_id, environment, type, subject_id, sequence, data, created_at
	FROM unnest(` + p(1) + `::text[], ` + p(2) + `::text[], ` + p(3) + `::text[], ` + p(4) + `::text[], ` + p(5) + `::text[], ` +
		p(6) + `::bigint[], ` + p(7) + `::text[], ` + p(8) + `::timestamptz[])
		WITH ORDINALITY AS e(id, org_id, environment, type, subject_id, sequence, data, created_at, n)
	ORDER BY n`
}()

// queueGroupRows queues on b the insert of the incidents and events of
// cs, in one statement.
func queueGroupRows(b *pgx.Batch, cs []*grouped) {
	n := 0
	for _, c := range cs {
		n += len(c.events)
	}
	var (
		ids, orgs, envs, types, subjects = make([]string, 0, n), make([]string, 0, n), make([]string, 0, n),
			make([]string, 0, n), make([]string, 0, n)
		data      = make([][]byte, 0, n) // text[] elements as they are: no string copy of each
		sequences = make([]int64, 0, n)
		created   = make([]pgtype.Timestamptz, 0, n)
	)
	for _, c := range cs {
		for _, ev := range c.events {
			ids, orgs, envs = append(ids, ev.ID), append(orgs, ev.OrgID), append(envs, ev.Environment)
			types, subjects, sequences = append(types, ev.Type), append(subjects, ev.SubjectID), append(sequences, ev.Sequence)
			data, created = append(data, ev.Data), append(created, at(ev.CreatedAt))
		}
	}
	b.Queue(insertGroupRows, append(incidentColumns(cs), ids, orgs, envs, types, subjects, sequences, data, created)...)
}

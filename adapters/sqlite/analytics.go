package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/incident"
)

// IncidentAnalytics aggregates in SQL: counts with GROUP BY, percentiles by
// reading one ranked row each. No incident row leaves the database.
func (s *incidentStore) IncidentAnalytics(ctx context.Context, tenant auth.Tenant, from, to time.Time) (*incident.IncidentAnalytics, error) {
	a := &incident.IncidentAnalytics{ByStatus: map[string]int{}, ByCategory: map[string]int{}, BySeverity: map[string]int{}}
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, translate(err)
	}
	defer tx.Rollback()
	const window = ` FROM incidents WHERE org_id = ? AND environment = ? AND created_at >= ? AND created_at <= ?`
	args := []any{tenant.OrgID, tenant.Env, from.UnixMilli(), to.UnixMilli()}

	err = tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(is_drill), 0),
		coalesce(sum(status = 'cancelled'), 0), coalesce(sum(sla_state = 'met'), 0), coalesce(sum(sla_state = 'breached'), 0)`+window, args...).
		Scan(&a.Total, &a.Drills, &a.Cancelled, &a.SLAMet, &a.SLABreached)
	if err != nil {
		return nil, translate(err)
	}
	for column, into := range map[string]map[string]int{"status": a.ByStatus, "category": a.ByCategory, "severity": a.BySeverity} {
		if err := groupCount(ctx, tx, `SELECT `+column+`, count(*)`+window+` GROUP BY `+column, args, func(k string, n int) { into[k] = n }); err != nil {
			return nil, err
		}
	}
	err = groupCount(ctx, tx, `SELECT date(created_at / 1000, 'unixepoch'), count(*)`+window+` GROUP BY 1 ORDER BY 1`, args,
		func(day string, n int) { a.ByDay = append(a.ByDay, incident.DayCount{Date: day, Count: n}) })
	if err != nil {
		return nil, err
	}
	if a.TimeToAssignSeconds, err = summarize(ctx, tx, "assign_ms", window, args); err != nil {
		return nil, err
	}
	if a.TimeToArriveSeconds, err = summarize(ctx, tx, "arrive_ms", window, args); err != nil {
		return nil, err
	}
	return a, nil
}

func groupCount(ctx context.Context, tx *sql.Tx, query string, args []any, add func(string, int)) error {
	groups, err := queryAll(ctx, tx, sqlstore.ScanGroup, query, args...)
	for _, g := range groups {
		add(g.Key, g.N)
	}
	return err
}

// summarize computes the nearest-rank p50 and p90 and the mean of column,
// reading only the two ranked values (see sqlstore.Summarize).
func summarize(ctx context.Context, tx *sql.Tx, column, window string, args []any) (incident.Summary, error) {
	var n int
	var avg sql.NullFloat64
	if err := tx.QueryRowContext(ctx, `SELECT count(`+column+`), avg(`+column+`)`+window, args...).Scan(&n, &avg); err != nil {
		return incident.Summary{}, translate(err)
	}
	return sqlstore.Summarize(n, avg.Float64, func(offset int) (v int64, err error) {
		err = tx.QueryRowContext(ctx, `SELECT `+column+window+` AND `+column+` IS NOT NULL ORDER BY `+column+` LIMIT 1 OFFSET ?`,
			append(args, offset)...).Scan(&v)
		return v, translate(err)
	})
}

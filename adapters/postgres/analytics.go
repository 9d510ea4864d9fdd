package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/incident"
)

// IncidentAnalytics aggregates in SQL, every part from one snapshot: counts
// with GROUP BY, percentiles by reading one ranked row each. No incident
// row leaves the database.
func (s *incidentStore) IncidentAnalytics(ctx context.Context, tenant auth.Tenant, from, to time.Time) (*incident.IncidentAnalytics, error) {
	a := &incident.IncidentAnalytics{ByStatus: map[string]int{}, ByCategory: map[string]int{}, BySeverity: map[string]int{}}
	const window = ` FROM incidents WHERE org_id = $1 AND environment = $2 AND created_at >= $3 AND created_at <= $4`
	args := []any{tenant.OrgID, string(tenant.Env), at(from), at(to)}
	err := pgx.BeginTxFunc(ctx, s.pool, readTx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE is_drill), count(*) FILTER (WHERE status = 'cancelled'),
			count(*) FILTER (WHERE sla_state = 'met'), count(*) FILTER (WHERE sla_state = 'breached')`+window, args...).
			Scan(&a.Total, &a.Drills, &a.Cancelled, &a.SLAMet, &a.SLABreached)
		if err != nil {
			return err
		}
		for column, into := range map[string]map[string]int{"status": a.ByStatus, "category": a.ByCategory, "severity": a.BySeverity} {
			if err := groupCount(ctx, tx, `SELECT `+column+`, count(*)`+window+` GROUP BY `+column, args, func(k string, n int) { into[k] = n }); err != nil {
				return err
			}
		}
		err = groupCount(ctx, tx, `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), count(*)`+window+` GROUP BY 1 ORDER BY 1`, args,
			func(day string, n int) { a.ByDay = append(a.ByDay, incident.DayCount{Date: day, Count: n}) })
		if err != nil {
			return err
		}
		if a.TimeToAssignSeconds, err = summarize(ctx, tx, "assign_ms", window, args); err != nil {
			return err
		}
		a.TimeToArriveSeconds, err = summarize(ctx, tx, "arrive_ms", window, args)
		return err
	})
	if err != nil {
		return nil, translate(err)
	}
	return a, nil
}

func groupCount(ctx context.Context, tx pgx.Tx, query string, args []any, add func(string, int)) error {
	groups, err := queryAll(ctx, tx, sqlstore.ScanGroup, query, args...)
	for _, g := range groups {
		add(g.Key, g.N)
	}
	return err
}

// summarize computes the nearest-rank p50 and p90 and the mean of column,
// reading only the two ranked values (see sqlstore.Summarize).
func summarize(ctx context.Context, tx pgx.Tx, column, window string, args []any) (incident.Summary, error) {
	var (
		n   int
		avg float64
	)
	if err := tx.QueryRow(ctx, `SELECT count(`+column+`), coalesce(avg(`+column+`), 0)::float8`+window, args...).Scan(&n, &avg); err != nil {
		return incident.Summary{}, err
	}
	return sqlstore.Summarize(n, avg, func(offset int) (v int64, err error) {
		err = tx.QueryRow(ctx, `SELECT `+column+window+` AND `+column+` IS NOT NULL ORDER BY `+column+` LIMIT 1 OFFSET $5`,
			append(args, offset)...).Scan(&v)
		return v, err
	})
}

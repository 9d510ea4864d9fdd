package sqlstore

import (
	"context"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/incident"
)

// IncidentAnalytics aggregates in SQL, every part from one snapshot:
// counts with GROUP BY, percentiles by reading one ranked row each. No
// incident row leaves the database.
func (s Incidents) IncidentAnalytics(ctx context.Context, tenant auth.Tenant, from, to time.Time) (*incident.IncidentAnalytics, error) {
	a := &incident.IncidentAnalytics{ByStatus: map[string]int{}, ByCategory: map[string]int{}, BySeverity: map[string]int{}}
	const window = ` FROM incidents WHERE org_id = ? AND environment = ? AND created_at >= ? AND created_at <= ?`
	args := []any{tenant.OrgID, tenant.Env, s.d.Time(from), s.d.Time(to)}
	err := s.d.Snapshot(ctx, func(q Querier) error {
		err := q.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE is_drill), count(*) FILTER (WHERE status = 'cancelled'),
			count(*) FILTER (WHERE sla_state = 'met'), count(*) FILTER (WHERE sla_state = 'breached')`+window, args...).
			Scan(&a.Total, &a.Drills, &a.Cancelled, &a.SLAMet, &a.SLABreached)
		if err != nil {
			return err
		}
		for column, into := range map[string]map[string]int{"status": a.ByStatus, "category": a.ByCategory, "severity": a.BySeverity} {
			if err := groupCount(ctx, q, `SELECT `+column+`, count(*)`+window+` GROUP BY `+column, args, func(k string, n int) { into[k] = n }); err != nil {
				return err
			}
		}
		err = groupCount(ctx, q, `SELECT `+s.d.DateOf("created_at")+`, count(*)`+window+` GROUP BY 1 ORDER BY 1`, args,
			func(day string, n int) { a.ByDay = append(a.ByDay, incident.DayCount{Date: day, Count: n}) })
		if err != nil {
			return err
		}
		if a.TimeToAssignSeconds, err = summarize(ctx, q, "assign_ms", window, args); err != nil {
			return err
		}
		a.TimeToArriveSeconds, err = summarize(ctx, q, "arrive_ms", window, args)
		return err
	})
	if err != nil {
		return nil, s.d.Translate(err)
	}
	return a, nil
}

// summarize computes the nearest-rank p50 and p90 and the mean of column,
// reading only the two ranked values (see Summarize).
func summarize(ctx context.Context, q Querier, column, window string, args []any) (incident.Summary, error) {
	var (
		n   int
		avg float64
	)
	if err := q.QueryRow(ctx, `SELECT count(`+column+`), CAST(coalesce(avg(`+column+`), 0) AS float8)`+window, args...).Scan(&n, &avg); err != nil {
		return incident.Summary{}, err
	}
	return Summarize(n, avg, func(offset int) (v int64, err error) {
		err = q.QueryRow(ctx, `SELECT `+column+window+` AND `+column+` IS NOT NULL ORDER BY `+column+` LIMIT 1 OFFSET ?`,
			append(args[:len(args):len(args)], offset)...).Scan(&v)
		return v, err
	})
}

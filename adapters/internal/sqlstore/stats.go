package sqlstore

import (
	"context"
	"slices"
	"time"

	"github.com/sety-io/sety/access"
	"github.com/sety-io/sety/auth"
)

// LogStats aggregates in SQL, every part from one snapshot; the median
// reads the one or two middle durations in order.
func (s accessStore) LogStats(ctx context.Context, tenant auth.Tenant, site string, from, to, now time.Time) (*access.Stats, error) {
	st := &access.Stats{ByMethod: map[string]int{}, ByHour: make([]int, 24), ByWeekday: make([]int, 7)}
	d := s.d
	where := ` WHERE org_id = ? AND environment = ?`
	whereArgs := []any{tenant.OrgID, tenant.Env}
	if site != "" {
		where, whereArgs = where+` AND site = ?`, append(whereArgs, site)
	}
	inWindow := where + ` AND checked_in_at >= ? AND checked_in_at <= ?`
	args := slices.Concat(whereArgs, []any{d.Time(from), d.Time(to)})
	window := ` FROM access_logs` + inWindow
	err := d.Snapshot(ctx, func(q Querier) error {
		if err := q.QueryRow(ctx, `SELECT count(*) FROM access_logs`+where+` AND status = 'checked_in'`, whereArgs...).Scan(&st.CurrentlyOnSite); err != nil {
			return err
		}
		var avg *float64
		err := q.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'checked_out'), CAST(avg(duration_seconds) AS float8),
			count(*) FILTER (WHERE expected_until IS NOT NULL AND (checked_out_at > expected_until OR (checked_out_at IS NULL AND ? > expected_until)))`+window,
			slices.Concat([]any{d.Time(now)}, args)...).Scan(&st.TotalEntries, &st.CheckedOut, &avg, &st.Overstays)
		if err != nil {
			return err
		}
		if err := groupCount(ctx, q, `SELECT method, count(*)`+window+` GROUP BY method`, args, func(k string, n int) { st.ByMethod[k] = n }); err != nil {
			return err
		}
		type hourDay struct{ hour, weekday, n int }
		cells, err := QueryAll(ctx, q, func(row RowScanner) (c hourDay, err error) {
			return c, row.Scan(&c.hour, &c.weekday, &c.n)
		}, `SELECT `+d.HourOf("checked_in_at")+`, `+d.WeekdayOf("checked_in_at")+`, count(*)`+window+` GROUP BY 1, 2`, args...)
		if err != nil {
			return err
		}
		for _, c := range cells {
			st.ByHour[c.hour] += c.n
			st.ByWeekday[c.weekday] += c.n
		}
		if st.CheckedOut == 0 || avg == nil {
			return nil
		}
		// The k-th duration in order (walking SQLite's duration index: no
		// sort of the window there).
		mid := func(k int) (float64, error) {
			var v int64
			err := q.QueryRow(ctx, `SELECT duration_seconds FROM access_logs`+d.IndexedBy("access_logs_duration")+inWindow+
				` AND duration_seconds IS NOT NULL ORDER BY duration_seconds LIMIT 1 OFFSET ?`, slices.Concat(args, []any{k})...).Scan(&v)
			return float64(v), err
		}
		med, err := mid((st.CheckedOut - 1) / 2)
		if err == nil && st.CheckedOut%2 == 0 {
			var hi float64
			hi, err = mid(st.CheckedOut / 2)
			med = (med + hi) / 2
		}
		if err != nil {
			return err
		}
		st.AverageVisitSeconds, st.MedianVisitSeconds = avg, &med
		return nil
	})
	if err != nil {
		return nil, d.Translate(err)
	}
	return st, nil
}

// groupCount runs query, a count by one key, and hands each group to add.
func groupCount(ctx context.Context, q Querier, query string, args []any, add func(string, int)) error {
	groups, err := QueryAll(ctx, q, ScanGroup, query, args...)
	for _, g := range groups {
		add(g.Key, g.N)
	}
	return err
}

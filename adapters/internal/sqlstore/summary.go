package sqlstore

import "github.com/sety-io/sety/incident"

// Summarize is the incident.Summary of a column of milliseconds that holds
// n values with mean avg: their nearest-rank p50 and p90, each read with
// rank (the column's value at offset, in ascending order: only the two
// ranked rows are read), and the mean, all in seconds. No values (n is 0)
// is the zero Summary, read nothing.
func Summarize(n int, avg float64, rank func(offset int) (int64, error)) (incident.Summary, error) {
	if n == 0 {
		return incident.Summary{}, nil
	}
	p50, err := rank(incident.NearestRank(0.5, n))
	if err != nil {
		return incident.Summary{}, err
	}
	p90, err := rank(incident.NearestRank(0.9, n))
	if err != nil {
		return incident.Summary{}, err
	}
	return incident.Summary{P50: incident.SecondsOfMillis(float64(p50)), P90: incident.SecondsOfMillis(float64(p90)), Avg: incident.SecondsOfMillis(avg)}, nil
}

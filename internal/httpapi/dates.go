package httpapi

import (
	"strings"
	"time"

	"github.com/sety-io/sety/internal/validate"
	"github.com/sety-io/sety/setyerr"
)

// DateRange parses the from_date and to_date query parameters: an RFC 3339
// timestamp or a YYYY-MM-DD date (the start of that day for from_date, its
// last millisecond for to_date). Either may be empty (zero time). A from
// after to is Invalid.
func DateRange(from, to string) (time.Time, time.Time, error) {
	f, err := parseDate("from_date", from, false)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	t, err := parseDate("to_date", to, true)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	if !f.IsZero() && !t.IsZero() && f.After(t) {
		return time.Time{}, time.Time{}, setyerr.Invalidf("from_date", "must not be after to_date")
	}
	return f, t, nil
}

func parseDate(field, v string, endOfDay bool) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.Parse(time.DateOnly, v); err == nil {
		if endOfDay {
			d = d.Add(24*time.Hour - time.Millisecond)
		}
		return d, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, setyerr.Invalidf(field, "must be an RFC 3339 timestamp or a YYYY-MM-DD date")
	}
	return t.UTC(), nil
}

// SplitList splits a comma-separated filter ("created,assigned") and checks
// its values with validate.Set (each known, none repeated), naming field
// on failure.
func SplitList[T ~string](field, v string, valid func(T) bool) ([]T, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	var out []T
	for part := range strings.SplitSeq(v, ",") {
		out = append(out, T(strings.TrimSpace(part)))
	}
	if err := validate.Set(field, out, valid); err != nil {
		return nil, err
	}
	return out, nil
}

package incident

import (
	"context"
	"math"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/internal/validate"
	"github.com/sety-io/sety/setyerr"
)

// IncidentAnalytics summarizes a tenant's incidents created in a window.
type IncidentAnalytics struct {
	From                clock.Time     `json:"from" doc:"Start of the window."`
	To                  clock.Time     `json:"to" doc:"End of the window."`
	Total               int            `json:"total" doc:"Incidents created in the window."`
	ByStatus            map[string]int `json:"by_status" nullable:"false" example:"{\"created\":0,\"dispatching\":1,\"assigned\":2,\"responding\":0,\"on_scene\":1,\"resolved\":30,\"cancelled\":4}" doc:"Count per status, every status present."`
	ByCategory          map[string]int `json:"by_category" nullable:"false" example:"{\"sos\":21,\"vehicle\":9,\"location_threat\":5,\"medical\":3}" doc:"Count per category, every category present."`
	BySeverity          map[string]int `json:"by_severity" nullable:"false" example:"{\"low\":2,\"medium\":7,\"high\":24,\"critical\":5}" doc:"Count per severity, every severity present."`
	Drills              int            `json:"drills" doc:"How many of them are drills."`
	CancelledRate       float64        `json:"cancelled_rate" example:"0.1053" doc:"Cancelled incidents / total (0 when there are none)."`
	TimeToAssignSeconds Summary        `json:"time_to_assign_seconds" doc:"Over incidents that got a responder."`
	TimeToArriveSeconds Summary        `json:"time_to_arrive_seconds" doc:"Over incidents a responder reached."`
	SLAMetRate          *float64       `json:"sla_met_rate" example:"0.9" doc:"Met / (met + breached); null when no incident has an SLA outcome yet."`
	ByDay               []DayCount     `json:"by_day" nullable:"false" doc:"Every day of the window (UTC), zeros included."`

	Cancelled   int `json:"-"`
	SLAMet      int `json:"-"`
	SLABreached int `json:"-"`
}

// Summary is the distribution of a duration in seconds; null without data.
// Percentiles are nearest-rank: p50 is the value at rank ceil(0.5 n).
type Summary struct {
	P50 *float64 `json:"p50" example:"48.2" doc:"Median, in seconds; null without data."`
	P90 *float64 `json:"p90" example:"131" doc:"90th percentile, in seconds; null without data."`
	Avg *float64 `json:"avg" example:"63.7" doc:"Mean, in seconds; null without data."`
}

// DayCount is how many incidents were created on one UTC day.
type DayCount struct {
	Date  string `json:"date" example:"2026-03-10" doc:"The UTC day, YYYY-MM-DD."`
	Count int    `json:"count" example:"4" doc:"Incidents created that day."`
}

// SummaryOf computes a Summary from millisecond values sorted ascending;
// adapters that load the values use it so every adapter rounds alike.
func SummaryOf(sortedMillis []int64) Summary {
	n := len(sortedMillis)
	if n == 0 {
		return Summary{}
	}
	var sum float64
	for _, v := range sortedMillis {
		sum += float64(v)
	}
	return Summary{
		P50: SecondsOfMillis(float64(sortedMillis[NearestRank(0.5, n)])),
		P90: SecondsOfMillis(float64(sortedMillis[NearestRank(0.9, n)])),
		Avg: SecondsOfMillis(sum / float64(n)),
	}
}

// NearestRank returns the zero-based index of the p-th percentile of n
// sorted values by the nearest-rank method.
func NearestRank(p float64, n int) int {
	return max(0, int(math.Ceil(p*float64(n)))-1)
}

// SecondsOfMillis converts milliseconds to seconds, rounded to the
// millisecond, as every Summary figure is.
func SecondsOfMillis(millis float64) *float64 {
	v := math.Round(millis) / 1000
	return &v
}

// maxAnalyticsWindow bounds the window so by_day stays a sane size.
const maxAnalyticsWindow = 366 * 24 * time.Hour

// Analytics returns the tenant's incident analytics for [from, to]; zero
// bounds default to the last 30 days.
func (s *Service) Analytics(ctx context.Context, tenant auth.Tenant, from, to time.Time) (*IncidentAnalytics, error) {
	if err := tenant.Validate(); err != nil {
		return nil, err
	}
	now := clock.Stamp(s.now)
	from, to, err := validate.Window(from, to, now)
	if err != nil {
		return nil, err
	}
	if to.Sub(from) > maxAnalyticsWindow {
		return nil, setyerr.Invalidf("from_date", "the window may span at most 366 days")
	}
	a, err := s.store.IncidentAnalytics(ctx, tenant, from, to)
	if err != nil {
		return nil, err
	}
	a.From, a.To = clock.At(from), clock.At(to)
	for _, st := range Statuses {
		a.ByStatus[string(st)] += 0
	}
	for _, c := range Categories {
		a.ByCategory[string(c)] += 0
	}
	for _, sv := range Severities {
		a.BySeverity[string(sv)] += 0
	}
	if a.Total > 0 {
		a.CancelledRate = math.Round(float64(a.Cancelled)/float64(a.Total)*10000) / 10000
	}
	if decided := a.SLAMet + a.SLABreached; decided > 0 {
		r := math.Round(float64(a.SLAMet)/float64(decided)*10000) / 10000
		a.SLAMetRate = &r
	}
	a.ByDay = everyDay(from, to, a.ByDay)
	return a, nil
}

// everyDay lists each UTC day from from to to, with the counts of days.
func everyDay(from, to time.Time, days []DayCount) []DayCount {
	counts := make(map[string]int, len(days))
	for _, d := range days {
		counts[d.Date] = d.Count
	}
	var out []DayCount
	for d := from.UTC().Truncate(24 * time.Hour); !d.After(to); d = d.Add(24 * time.Hour) {
		date := d.Format(time.DateOnly)
		out = append(out, DayCount{Date: date, Count: counts[date]})
	}
	return out
}

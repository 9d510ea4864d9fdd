package memory

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/incident"
)

func (m *incidentStore) IncidentAnalytics(ctx context.Context, tenant auth.Tenant, from, to time.Time) (*incident.IncidentAnalytics, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &incident.IncidentAnalytics{ByStatus: map[string]int{}, ByCategory: map[string]int{}, BySeverity: map[string]int{}}
	var assign, arrive []int64
	days := map[string]int{}
	for _, inc := range s.incidents {
		if inc.Tenant() != tenant || inc.CreatedAt.Before(from) || inc.CreatedAt.After(to) {
			continue
		}
		a.Total++
		a.ByStatus[string(inc.Status)]++
		a.ByCategory[string(inc.Category)]++
		a.BySeverity[string(inc.Severity)]++
		days[inc.CreatedAt.UTC().Format(time.DateOnly)]++
		if inc.IsDrill {
			a.Drills++
		}
		if inc.Status == incident.Cancelled {
			a.Cancelled++
		}
		if at := inc.AssignedAt(); !at.IsZero() {
			assign = append(assign, at.Sub(inc.CreatedAt.Time).Milliseconds())
		}
		if at := inc.ArrivedAt(); !at.IsZero() {
			arrive = append(arrive, at.Sub(inc.CreatedAt.Time).Milliseconds())
		}
		if inc.SLA != nil {
			switch inc.SLA.State {
			case incident.SLAMet:
				a.SLAMet++
			case incident.SLABreached:
				a.SLABreached++
			}
		}
	}
	slices.Sort(assign)
	slices.Sort(arrive)
	a.TimeToAssignSeconds, a.TimeToArriveSeconds = incident.SummaryOf(assign), incident.SummaryOf(arrive)
	for d, n := range days {
		a.ByDay = append(a.ByDay, incident.DayCount{Date: d, Count: n})
	}
	slices.SortFunc(a.ByDay, func(x, y incident.DayCount) int { return strings.Compare(x.Date, y.Date) })
	return a, nil
}

package memory

import (
	"slices"
	"strings"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/incident"
)

// incidentIndex is what the incident queries read beside the map of
// incidents, as the SQL adapters' indexes and incident_counts are: every
// query runs under the store's one lock, so none may walk every incident
// of every tenant while the history grows.
type incidentIndex struct {
	// active holds the ids of the active incidents of every tenant: the
	// engines' queries (due, queued, counts) and lists of active statuses
	// read only these, which stay few however long the history is.
	active map[string]struct{}
	// order holds each tenant's incident ids oldest first, as "ORDER BY
	// created_at, id": a list walks it from the newest end and stops at the
	// end of its page.
	order map[auth.Tenant][]string
	// counts counts each tenant's incidents by status, category and
	// severity, so a list's total without a time filter sums a few numbers.
	counts map[auth.Tenant]map[countKey]int
}

type countKey struct {
	status   incident.Status
	category incident.Category
	severity incident.Severity
}

func newIncidentIndex() incidentIndex {
	return incidentIndex{
		active: map[string]struct{}{},
		order:  map[auth.Tenant][]string{},
		counts: map[auth.Tenant]map[countKey]int{},
	}
}

func keyOf(inc *incident.Incident) countKey {
	return countKey{inc.Status, inc.Category, inc.Severity}
}

// putIncident stores next in place of prev (nil for a new incident) and
// keeps the index in step. Callers hold mu.
func (s *Store) putIncident(prev, next *incident.Incident) {
	x := &s.incidentIdx
	t := next.Tenant()
	if prev != nil {
		x.counts[t][keyOf(prev)]--
		if !prev.CreatedAt.Equal(next.CreatedAt.Time) {
			i := s.orderAt(prev)
			x.order[t] = slices.Delete(x.order[t], i, i+1)
			prev = nil
		}
	}
	s.incidents[next.ID] = next
	if prev == nil {
		i := s.orderAt(next)
		x.order[t] = slices.Insert(x.order[t], i, next.ID)
	}
	if x.counts[t] == nil {
		x.counts[t] = map[countKey]int{}
	}
	x.counts[t][keyOf(next)]++
	if next.Status.Active() {
		x.active[next.ID] = struct{}{}
	} else {
		delete(x.active, next.ID)
	}
}

// orderAt returns where inc stands (or would stand) in its tenant's order.
// Incidents are created in nearly clock order, so this is almost always
// the end. Callers hold mu.
func (s *Store) orderAt(inc *incident.Incident) int {
	i, _ := slices.BinarySearchFunc(s.incidentIdx.order[inc.Tenant()], inc, func(id string, target *incident.Incident) int {
		cur := s.incidents[id]
		if c := cur.CreatedAt.Compare(target.CreatedAt.Time); c != 0 {
			return c
		}
		return strings.Compare(id, target.ID)
	})
	return i
}

// activeIncidents returns the active incidents keep accepts, in no order.
// Callers hold mu.
func (s *Store) activeIncidents(keep func(*incident.Incident) bool) []*incident.Incident {
	var out []*incident.Incident
	for id := range s.incidentIdx.active {
		if inc := s.incidents[id]; keep(inc) {
			out = append(out, inc)
		}
	}
	return out
}

// listIncidents returns copies of the tenant's incidents in f's page, newest
// first, and how many match f in all. Callers hold mu.
func (s *Store) listIncidents(tenant auth.Tenant, f incident.Filter) ([]*incident.Incident, int) {
	keep := func(inc *incident.Incident) bool { return inc.Tenant() == tenant && matches(inc, f) }
	if onlyActive(f.Statuses) {
		return page(s.activeIncidents(keep), newestFirst(created), f.Offset, f.Limit, (*incident.Incident).Clone)
	}
	timed := !f.From.IsZero() || !f.To.IsZero()
	order := s.incidentIdx.order[tenant]
	out := []*incident.Incident{}
	total := 0
	for i := len(order) - 1; i >= 0; i-- {
		inc := s.incidents[order[i]]
		if !f.From.IsZero() && inc.CreatedAt.Before(f.From) {
			break // older ones are all before it too
		}
		if !matches(inc, f) {
			continue
		}
		total++
		if total > f.Offset && len(out) < f.Limit {
			out = append(out, inc.Clone())
		}
		if len(out) == f.Limit && !timed {
			break // the counts give the total
		}
	}
	if !timed {
		total = s.countIncidents(tenant, f)
	}
	return out, total
}

// countIncidents counts the tenant's incidents of f's statuses, categories
// and severities (f's time range is not looked at). Callers hold mu.
func (s *Store) countIncidents(tenant auth.Tenant, f incident.Filter) int {
	n := 0
	for k, c := range s.incidentIdx.counts[tenant] {
		if (len(f.Statuses) == 0 || slices.Contains(f.Statuses, k.status)) &&
			(len(f.Categories) == 0 || slices.Contains(f.Categories, k.category)) &&
			(len(f.Severities) == 0 || slices.Contains(f.Severities, k.severity)) {
			n += c
		}
	}
	return n
}

// onlyActive reports whether statuses names active statuses only.
func onlyActive(statuses []incident.Status) bool {
	if len(statuses) == 0 {
		return false
	}
	for _, st := range statuses {
		if !st.Active() {
			return false
		}
	}
	return true
}

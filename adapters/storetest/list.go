package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/sety-io/sety/incident"
)

func testList(t *testing.T, newStores NewStores) {
	t.Parallel()
	ctx := context.Background()
	st := newStores(t).IncidentStore()

	// Ten incidents a minute apart, cycling through categories, severities
	// and statuses; two share a timestamp to pin the tie-break. They are
	// stored out of time order (a clock may step back, an import may
	// backfill): lists order by created_at, not by arrival.
	all := make([]*incident.Incident, 10)
	for i := range all {
		at := base.Add(time.Duration(i) * time.Minute)
		if i == 9 {
			at = all[8].CreatedAt.Time
		}
		all[i] = newIncident(t, tenantA, at)
		all[i].Category = incident.Categories[i%4]
		all[i].Severity = incident.Severities[i%4]
		all[i].Status = incident.Statuses[i%3]
	}
	for _, i := range []int{3, 4, 9, 5, 6, 7, 8, 0, 1, 2} {
		all[i] = create(t, st, all[i])
	}
	create(t, st, newIncident(t, tenantB, base)) // never listed for tenantA
	create(t, st, newIncident(t, tenantATest, base))

	ids := func(items []*incident.Incident) []string {
		out := make([]string, len(items))
		for i, it := range items {
			out[i] = it.ID
		}
		return out
	}
	newestFirst := slices.Clone(all)
	slices.Reverse(newestFirst)
	// all[9] and all[8] share created_at; the larger id (all[9]) comes first.

	tests := []struct {
		name string
		f    incident.Filter
		want []*incident.Incident
	}{
		{"all", incident.Filter{Limit: 100}, newestFirst},
		{"page 2 of 3", incident.Filter{Offset: 3, Limit: 3}, newestFirst[3:6]},
		{"past the end", incident.Filter{Offset: 20, Limit: 5}, nil},
		{"status", incident.Filter{Statuses: []incident.Status{incident.Dispatching}, Limit: 100},
			pick(newestFirst, func(i *incident.Incident) bool { return i.Status == incident.Dispatching })},
		{"two categories", incident.Filter{Categories: []incident.Category{incident.SOS, incident.Medical}, Limit: 100},
			pick(newestFirst, func(i *incident.Incident) bool { return i.Category == incident.SOS || i.Category == incident.Medical })},
		{"severity and status", incident.Filter{Severities: []incident.Severity{incident.Low}, Statuses: []incident.Status{incident.Created}, Limit: 100},
			pick(newestFirst, func(i *incident.Incident) bool { return i.Severity == incident.Low && i.Status == incident.Created })},
		{"from and to are inclusive", incident.Filter{From: all[2].CreatedAt.Time, To: all[5].CreatedAt.Time, Limit: 100},
			[]*incident.Incident{all[5], all[4], all[3], all[2]}},
		{"to only", incident.Filter{To: all[1].CreatedAt.Time, Limit: 100}, []*incident.Incident{all[1], all[0]}},
	}
	for _, tt := range tests {
		got, total, err := st.ListIncidents(ctx, tenantA, tt.f)
		must(t, err)
		if !slices.Equal(ids(got), ids(tt.want)) {
			t.Errorf("%s: got %v, want %v", tt.name, ids(got), ids(tt.want))
		}
		wantTotal := len(tt.want)
		if tt.f.Offset > 0 || tt.name == "past the end" {
			wantTotal = len(all)
		}
		if total != wantTotal {
			t.Errorf("%s: total = %d, want %d", tt.name, total, wantTotal)
		}
	}
	got, _, err := st.ListIncidents(ctx, tenantA, incident.Filter{Limit: 1})
	must(t, err)
	sameJSON(t, "listed incident", got[0], all[9])

	// Lists and their totals follow changes of status and severity.
	for i, inc := range all[:5] {
		all[i], err = st.UpdateIncident(ctx, tenantA, inc.ID, func(c *incident.Incident) (incident.Effects, error) {
			c.Status, c.Severity = incident.Resolved, incident.Critical
			return incident.Effects{}, nil
		})
		must(t, err)
	}
	newestFirst = slices.Clone(all)
	slices.Reverse(newestFirst)
	for _, f := range []incident.Filter{
		{Statuses: []incident.Status{incident.Resolved}},
		{Statuses: []incident.Status{incident.Created, incident.Dispatching}},
		{Severities: []incident.Severity{incident.Critical}, Categories: []incident.Category{incident.SOS, incident.Vehicle}},
		{Statuses: []incident.Status{incident.Resolved, incident.Created}, From: all[3].CreatedAt.Time},
		{Statuses: []incident.Status{incident.Resolved, incident.Dispatching}, Offset: 2, Limit: 3},
		{},
	} {
		matches := pick(newestFirst, func(i *incident.Incident) bool {
			return (len(f.Statuses) == 0 || slices.Contains(f.Statuses, i.Status)) &&
				(len(f.Severities) == 0 || slices.Contains(f.Severities, i.Severity)) &&
				(len(f.Categories) == 0 || slices.Contains(f.Categories, i.Category)) &&
				!i.CreatedAt.Before(f.From)
		})
		if f.Limit == 0 {
			f.Limit = 100
		}
		want := matches[min(f.Offset, len(matches)):min(f.Offset+f.Limit, len(matches))]
		got, total, err := st.ListIncidents(ctx, tenantA, f)
		must(t, err)
		if !slices.Equal(ids(got), ids(want)) || total != len(matches) {
			t.Errorf("after changes, %+v: got %v (total %d), want %v", f, ids(got), total, ids(want))
		}
	}
}

func pick(items []*incident.Incident, keep func(*incident.Incident) bool) []*incident.Incident {
	var out []*incident.Incident
	for _, it := range items {
		if keep(it) {
			out = append(out, it)
		}
	}
	return out
}
